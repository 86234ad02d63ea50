package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// header is what Decode reads from an object's node before (or instead of)
// decoding it: identity and location.
type header struct {
	apiVersion, kind string
	namespace, name  string
	nameLine         int // line of metadata.name in the document; 0 if absent
}

// Decode decodes one document into objects. List kinds (List, PodList,
// NamespaceList, DeploymentList, ... any kind ending in "List" with
// "items") are unpacked; items lacking kind or apiVersion inherit them from
// the list ("PodList" gives Pod, and the apiVersion of the list).
// Object.Source.Line is the line in the file of the object's metadata.name,
// or the document's first line when it has none. Object.APIVersion is the
// apiVersion as written (or inherited from the list): an old apiVersion
// read with the current type (extensions/v1beta1 NetworkPolicy) keeps it,
// with a deprecation warning.
//
// Kinds reachdiff reads get a typed value (see Object.Typed); other kinds
// are returned with Typed nil. A document that is not a Kubernetes object
// (no apiVersion and kind) is skipped with an info diagnostic; kustomize
// files are skipped silently. Policies (NetworkPolicy, AdminNetworkPolicy,
// BaselineAdminNetworkPolicy, ClusterNetworkPolicy, Cilium policies) are
// decoded strictly: an unknown field or a type error is an error and the
// object is dropped. For other kinds an unknown field is a warning and the
// object is kept; a type error is a warning and the object is dropped.
func Decode(doc Document) ([]Object, []diag.Diagnostic) {
	if isKustomizationFile(doc.Source.File) {
		return nil, nil
	}
	if objs, ok := decodeFast(doc); ok {
		return objs, nil
	}
	return decodeYAML(doc)
}

// decodeYAML is Decode through go-yaml, for any document.
func decodeYAML(doc Document) ([]Object, []diag.Diagnostic) {
	d := decoder{src: doc.Source}
	if isKustomizationFile(doc.Source.File) {
		return nil, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(doc.Data))
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.diag(diag.Error, yamlErrorLine(err), "", "invalid YAML: "+yamlMessage(err, d.lineOffset()))
			break
		}
		d.document(&root, len(doc.Data))
	}
	return d.objs, d.diags
}

// decoder collects the objects and diagnostics of one document.
type decoder struct {
	src   Source
	objs  []Object
	diags []diag.Diagnostic
	// budget is the work left for converting this document's objects to
	// JSON: shared by the items of a list, so that many items aliasing one
	// big anchor cannot multiply it.
	budget int
}

// lineOffset converts document lines (1-based) to file lines.
func (d *decoder) lineOffset() int {
	if d.src.Line > 1 {
		return d.src.Line - 1
	}
	return 0
}

// fileLine converts a line in the document to a line in the file; 0 (no
// line) gives the document's first line.
func (d *decoder) fileLine(line int) int {
	if line <= 0 {
		return d.src.Line
	}
	return line + d.lineOffset()
}

func (d *decoder) diag(sev diag.Severity, line int, object, msg string) {
	d.diags = append(d.diags, diag.Diagnostic{
		Severity: sev, File: d.src.File, Line: d.fileLine(line), Object: object, Message: msg,
	})
}

func (d *decoder) document(root *yaml.Node, size int) {
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty document, or one holding only comments
	}
	if n.Kind != yaml.MappingNode {
		d.diag(diag.Info, n.Line, "", "not a Kubernetes object, skipped")
		return
	}
	h := readHeader(n)
	if h.apiVersion == "" && h.kind == "" {
		d.diag(diag.Info, n.Line, "", "not a Kubernetes object, skipped")
		return
	}
	if isKustomizeKind(h) {
		return
	}
	d.budget = 4*size + 1<<16
	if items := field(n, "items"); strings.HasSuffix(h.kind, "List") && items != nil {
		d.list(n, h, deref(items))
		return
	}
	d.object(n, h)
}

// list unpacks the items of a List kind.
func (d *decoder) list(n *yaml.Node, h header, items *yaml.Node) {
	if items == nil || (items.Kind == yaml.ScalarNode && items.ShortTag() == "!!null") {
		return
	}
	if items.Kind != yaml.SequenceNode {
		d.diag(diag.Error, items.Line, "", fmt.Sprintf("%s: items is not a list", h.kind))
		return
	}
	itemKind := strings.TrimSuffix(h.kind, "List")
	for i, it := range items.Content {
		if d.budget < 0 {
			return // out of budget: reported once, by object
		}
		it = deref(it)
		if it.Kind != yaml.MappingNode {
			d.diag(diag.Error, it.Line, "", fmt.Sprintf("%s: item %d is not an object", h.kind, i))
			continue
		}
		ih := readHeader(it)
		if ih.apiVersion == "" {
			ih.apiVersion = h.apiVersion
		}
		if ih.kind == "" {
			ih.kind = itemKind
		}
		if ih.kind == "" {
			d.diag(diag.Warning, lineOr(ih.nameLine, it.Line), "", fmt.Sprintf("%s: item %d has no kind, skipped", h.kind, i))
			continue
		}
		if strings.HasSuffix(ih.kind, "List") && field(it, "items") != nil {
			d.diag(diag.Warning, it.Line, "", fmt.Sprintf("%s: item %d is itself a list, skipped", h.kind, i))
			continue
		}
		d.object(it, ih)
	}
}

// objectText is what object needs of an object's text: the line it
// starts on, its JSON form and the lines of its fields.
type objectText interface {
	// firstLine is the line of the object in the document.
	firstLine() int
	// toJSON returns the JSON form of the object and the work it took
	// (see nodeToJSON), or an error at a line (0: the first line).
	toJSON(budget int) (data []byte, work int, line int, err error)
	// pathLine returns the line of the field at path, 0 if unknown.
	pathLine(path string) int
}

// yamlText is an object parsed by go-yaml.
type yamlText struct{ n *yaml.Node }

func (t yamlText) firstLine() int { return t.n.Line }

func (t yamlText) toJSON(budget int) ([]byte, int, int, error) {
	data, work, err := nodeToJSON(t.n, budget)
	if err != nil {
		line := t.n.Line
		var ne *nodeError
		if errors.As(err, &ne) && ne.line > 0 {
			line = ne.line
		}
		return nil, 0, line, err
	}
	return data, work, 0, nil
}

func (t yamlText) pathLine(p string) int { return pathLine(t.n, p) }

// object decodes one object node.
func (d *decoder) object(n *yaml.Node, h header) {
	d.objectOf(yamlText{n}, h)
}

// objectOf decodes one object.
func (d *decoder) objectOf(n objectText, h header) {
	obj := Object{
		APIVersion: h.apiVersion,
		Kind:       h.kind,
		Namespace:  h.namespace,
		Name:       h.name,
		Source:     Source{File: d.src.File, Line: d.fileLine(lineOr(h.nameLine, n.firstLine()))},
	}
	if obj.Source.Line == 0 {
		obj.Source.Line = d.src.Line
	}
	objName := objectName(h)
	if h.apiVersion == "" || h.kind == "" {
		d.diag(diag.Warning, lineOr(h.nameLine, n.firstLine()), objName, "object without apiVersion or kind, skipped")
		return
	}
	info, ok := kinds[h.apiVersion+" "+h.kind]
	if !ok {
		if readKinds[h.kind] {
			d.diag(diag.Warning, lineOr(h.nameLine, n.firstLine()), objName,
				fmt.Sprintf("%s %s is not read: only other apiVersions of %s are", h.apiVersion, h.kind, h.kind))
		}
		d.objs = append(d.objs, obj)
		return
	}
	data, work, line, err := n.toJSON(d.budget)
	d.budget -= work
	if err != nil {
		if err.Error() == errBudget.Error() {
			d.budget = -1
		}
		d.diag(diag.Error, line, objName, err.Error())
		return
	}
	typed := info.new()
	strictErrs, err := sigsjson.UnmarshalStrict(data, typed)
	if err != nil {
		sev := diag.Warning
		if info.policy {
			sev = diag.Error
		}
		line := lineOr(h.nameLine, n.firstLine())
		msg := err.Error()
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			line = lineOr(n.pathLine(te.Field), line)
		}
		d.diag(sev, line, objName, strings.TrimPrefix(msg, "json: ")+"; object skipped")
		return
	}
	var unmodelled []string
	reported := 0
	for _, se := range strictErrs {
		msg := se.Error()
		line := lineOr(h.nameLine, n.firstLine())
		var fe interface{ FieldPath() string }
		if errors.As(se, &fe) {
			line = lineOr(n.pathLine(fe.FieldPath()), line)
			if strings.HasPrefix(msg, "unknown field") {
				switch {
				case fe.FieldPath() == "status" || strings.HasPrefix(fe.FieldPath(), "status."):
					// Status is written by the cluster ("kubectl get -o yaml"
					// output) and says nothing about what the object asks for.
					continue
				case info.partial:
					continue
				case info.lenient:
					unmodelled = append(unmodelled, fe.FieldPath())
					continue
				}
			}
		}
		reported++
		if info.policy {
			d.diag(diag.Error, line, objName, msg)
		} else {
			d.diag(diag.Warning, line, objName, msg)
		}
	}
	if info.policy && reported > 0 {
		return // the policy's meaning is unknown: reported above
	}
	if c, ok := typed.(*CiliumNetworkPolicy); ok {
		sort.Strings(unmodelled)
		c.Unmodelled = unmodelled
	}
	if info.readAs != "" {
		defaultSelector(h.apiVersion, typed)
		d.diag(diag.Warning, lineOr(h.nameLine, n.firstLine()), objName,
			fmt.Sprintf("deprecated apiVersion %s; read as %s", h.apiVersion, info.readAs))
	}
	// List items may lack kind and apiVersion: fill them in.
	if o, ok := typed.(interface{ GetObjectKind() schema.ObjectKind }); ok {
		o.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(h.apiVersion, h.kind))
	}
	obj.Typed = typed
	d.objs = append(d.objs, obj)
}

// objectName names an object in diagnostics: "Kind ns/name" or "Kind name".
func objectName(h header) string {
	kind := h.kind
	if kind == "" {
		kind = "object"
	}
	switch {
	case h.name == "":
		return kind
	case h.namespace == "":
		return kind + " " + h.name
	}
	return kind + " " + h.namespace + "/" + h.name
}

func lineOr(line, fallback int) int {
	if line > 0 {
		return line
	}
	return fallback
}

// deref follows aliases (a bounded number of times).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// field returns the value of key in mapping m, nil if absent.
func field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var found *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := deref(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			found = m.Content[i+1] // the last one wins, as in JSON decoding
		}
	}
	return found
}

// fieldKey returns the key node of key in mapping m, nil if absent.
func fieldKey(m *yaml.Node, key string) *yaml.Node {
	var found *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := deref(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			found = m.Content[i]
		}
	}
	return found
}

func scalar(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

func readHeader(m *yaml.Node) header {
	h := header{
		apiVersion: scalar(field(m, "apiVersion")),
		kind:       scalar(field(m, "kind")),
	}
	if md := deref(field(m, "metadata")); md != nil && md.Kind == yaml.MappingNode {
		h.namespace = scalar(field(md, "namespace"))
		h.name = scalar(field(md, "name"))
		if k := fieldKey(md, "name"); k != nil {
			h.nameLine = k.Line
		}
	}
	return h
}

// pathLine returns the line of the field at path ("spec.ingress[0].from")
// below n, or of the deepest part of it that exists; 0 if none does.
// Keys holding dots (annotations) are matched greedily.
func pathLine(n *yaml.Node, p string) int {
	line := 0
	cur := deref(n)
	for p != "" && cur != nil {
		if p[0] == '[' {
			end := strings.IndexByte(p, ']')
			if end < 0 {
				break
			}
			i, err := strconv.Atoi(p[1:end])
			p = strings.TrimPrefix(p[end+1:], ".")
			if err != nil || cur.Kind != yaml.SequenceNode || i < 0 || i >= len(cur.Content) {
				break
			}
			cur = deref(cur.Content[i])
			line = cur.Line
			continue
		}
		if cur.Kind != yaml.MappingNode {
			break
		}
		// The longest key that is a prefix of p and ends at a separator.
		var key, val *yaml.Node
		for i := 0; i+1 < len(cur.Content); i += 2 {
			k := deref(cur.Content[i])
			if k.Kind != yaml.ScalarNode || !strings.HasPrefix(p, k.Value) {
				continue
			}
			if rest := p[len(k.Value):]; rest != "" && rest[0] != '.' && rest[0] != '[' {
				continue
			}
			if key == nil || len(k.Value) >= len(key.Value) {
				key, val = k, cur.Content[i+1]
			}
		}
		if key == nil {
			break
		}
		line = key.Line
		p = strings.TrimPrefix(p[len(key.Value):], ".")
		cur = deref(val)
	}
	return line
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// yamlMessage rewrites the line numbers in a go-yaml error, which count from
// the document's start, to lines of the file.
func yamlMessage(err error, offset int) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return yamlLineRE.ReplaceAllStringFunc(msg, func(s string) string {
		n, _ := strconv.Atoi(s[len("line "):])
		return "line " + strconv.Itoa(n+offset)
	})
}

// yamlErrorLine returns the first line number named in a go-yaml error.
func yamlErrorLine(err error) int {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// isKustomizationFile reports whether file is a kustomize configuration,
// which is skipped silently.
func isKustomizationFile(file string) bool {
	switch path.Base(file) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

func isKustomizeKind(h header) bool {
	return (h.kind == "Kustomization" || h.kind == "Component") &&
		(h.apiVersion == "" || strings.HasPrefix(h.apiVersion, "kustomize.config.k8s.io/"))
}

// defaultSelector fills in the selector of a workload read from an old
// apiVersion where it was optional. extensions/v1beta1 and apps/v1beta1
// say of spec.selector: "If empty, defaulted to labels on the pod
// template."
func defaultSelector(apiVersion string, typed any) {
	if apiVersion != "extensions/v1beta1" && apiVersion != "apps/v1beta1" {
		return
	}
	var sel **metav1.LabelSelector
	var labels map[string]string
	switch o := typed.(type) {
	case *appsv1.Deployment:
		sel, labels = &o.Spec.Selector, o.Spec.Template.Labels
	case *appsv1.DaemonSet:
		sel, labels = &o.Spec.Selector, o.Spec.Template.Labels
	case *appsv1.ReplicaSet:
		sel, labels = &o.Spec.Selector, o.Spec.Template.Labels
	case *appsv1.StatefulSet:
		sel, labels = &o.Spec.Selector, o.Spec.Template.Labels
	default:
		return
	}
	if *sel == nil && len(labels) > 0 {
		*sel = &metav1.LabelSelector{MatchLabels: maps.Clone(labels)}
	}
}

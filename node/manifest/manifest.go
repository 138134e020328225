// Package manifest is the bridge between the Room API (api/v1alpha1: the
// Room custom resource and the YAML manifests of a --rooms file) and the
// catalog's room configuration: it parses manifests and converts specs to
// catalog rooms and back. It is the only package of the node's core path
// that links the Kubernetes API types, so the catalog, the engine, the
// owners and the codecs do not.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
)

// File is what a --rooms file declares: its Rooms and its Worlds.
type File struct {
	Rooms  []*catalog.Room
	Worlds []*catalog.World
}

// Load reads a YAML file of Room and World manifests (documents separated
// by ---) and returns them in the catalog's form. The JWT secrets World
// manifests reference are read from secretsDir, laid out like a mounted
// Secret: secretsDir/<secret name>/<key>. Documents of other kinds are an
// error.
func Load(path, secretsDir string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read rooms file: %w", err)
	}
	return Parse(b, DirSecrets(secretsDir))
}

// Secrets returns the value of a key of a Secret.
type Secrets func(ref v1alpha1.SecretKeyRef) ([]byte, error)

// DirSecrets reads secrets from dir/<secret name>/<key> (a mounted
// Secret's layout); dir "" has none.
func DirSecrets(dir string) Secrets {
	return func(ref v1alpha1.SecretKeyRef) ([]byte, error) {
		if dir == "" {
			return nil, fmt.Errorf("secret %s/%s: no --secrets-dir", ref.Name, ref.Key)
		}
		if !safeName(ref.Name) || !safeName(ref.Key) {
			return nil, fmt.Errorf("secret %s/%s: invalid name", ref.Name, ref.Key)
		}
		b, err := os.ReadFile(filepath.Join(dir, ref.Name, ref.Key))
		if err != nil {
			return nil, fmt.Errorf("secret %s/%s: %w", ref.Name, ref.Key, err)
		}
		return bytes.TrimRight(b, "\r\n"), nil
	}
}

// safeName reports whether a Secret's name or key stays inside its
// directory.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00")
}

// typeMeta is a document's kind, read before the document itself.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// Parse parses Room and World manifests from YAML into the catalog's
// form, reading World secrets with secrets.
func Parse(b []byte, secrets Secrets) (File, error) {
	var out File
	seen := map[string]bool{}
	for i, doc := range splitYAML(b) {
		var tm typeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return File{}, fmt.Errorf("document %d: %w", i+1, err)
		}
		if tm.APIVersion != v1alpha1.APIVersion || tm.Kind != v1alpha1.Kind && tm.Kind != v1alpha1.WorldKind {
			return File{}, fmt.Errorf("document %d: want apiVersion %s kind %s or %s, got %s %s",
				i+1, v1alpha1.APIVersion, v1alpha1.Kind, v1alpha1.WorldKind, tm.APIVersion, tm.Kind)
		}
		if tm.Kind == v1alpha1.WorldKind {
			w, err := parseWorld(doc, secrets)
			if err != nil {
				return File{}, fmt.Errorf("document %d: %w", i+1, err)
			}
			if seen["world:"+w.ID] {
				return File{}, fmt.Errorf("world %s is declared twice", w.ID)
			}
			seen["world:"+w.ID] = true
			out.Worlds = append(out.Worlds, w)
			continue
		}
		var obj v1alpha1.Room
		if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
			return File{}, fmt.Errorf("document %d: %w", i+1, err)
		}
		r, err := FromSpec(obj.RoomID(), &obj.Spec)
		if err != nil {
			return File{}, fmt.Errorf("room %s: %w", obj.RoomID(), err)
		}
		if seen[r.ID] {
			return File{}, fmt.Errorf("room id %s is declared twice", r.ID)
		}
		seen[r.ID] = true
		out.Rooms = append(out.Rooms, r)
	}
	return out, nil
}

// parseWorld reads one World document and the secrets it references.
func parseWorld(doc []byte, secrets Secrets) (*catalog.World, error) {
	var obj v1alpha1.World
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		return nil, err
	}
	vals := make([][]byte, 0, len(obj.Spec.JWT.Secrets))
	for _, ref := range obj.Spec.JWT.Secrets {
		v, err := secrets(ref)
		if err != nil {
			return nil, fmt.Errorf("world %s: %w", obj.Name, err)
		}
		vals = append(vals, v)
	}
	w, err := WorldFromSpec(obj.Name, &obj.Spec, vals)
	if err != nil {
		return nil, fmt.Errorf("world %s: %w", obj.Name, err)
	}
	return w, nil
}

func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimRight(line, " \t") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

func stripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out.Write(l)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// FromSpec converts a Room spec to the catalog's form.
func FromSpec(id string, s *v1alpha1.RoomSpec) (*catalog.Room, error) {
	r := &catalog.Room{
		ID:               id,
		World:            s.World,
		Name:             s.DisplayName,
		Description:      s.Description,
		SortingPriority:  int(s.SortingPriority),
		ForceJoin:        s.ForceJoin,
		PretalxID:        int(s.PretalxID),
		AllowedReactions: s.Reactions,
		ShowViewers:      s.Viewers == nil || *s.Viewers,
		AnonymousInvites: s.AnonymousInvites == nil || *s.AnonymousInvites,
		TraitGrants:      auth.Grants{},
	}
	if s.Picture != "" {
		p := s.Picture
		r.Picture = &p
	}
	for _, m := range s.Modules {
		mc := map[string]any{"type": m.Type, "config": map[string]any{}}
		if m.Config != nil && len(m.Config.Raw) > 0 {
			var cfg map[string]any
			if err := json.Unmarshal(m.Config.Raw, &cfg); err != nil {
				return nil, fmt.Errorf("module %s config: %w", m.Type, err)
			}
			mc["config"] = cfg
		}
		r.ModuleConfig = append(r.ModuleConfig, mc)
	}
	for role, entries := range s.TraitGrants {
		rules := make([]auth.Rule, 0, len(entries))
		for _, e := range entries {
			rules = append(rules, auth.Rule(strings.Split(e, "|")))
		}
		r.TraitGrants[role] = rules
	}
	if s.ScheduleData != nil && len(s.ScheduleData.Raw) > 0 {
		if err := json.Unmarshal(s.ScheduleData.Raw, &r.ScheduleData); err != nil {
			return nil, fmt.Errorf("scheduleData: %w", err)
		}
	}
	r.Normalize()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

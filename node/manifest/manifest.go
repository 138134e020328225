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
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
)

// Load reads a YAML file of Room manifests (documents separated by
// ---) and returns them as catalog rooms. Documents of other kinds are an error.
func Load(path string) ([]*catalog.Room, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rooms file: %w", err)
	}
	return Parse(b)
}

// Parse parses Room manifests from YAML into catalog rooms.
func Parse(b []byte) ([]*catalog.Room, error) {
	var out []*catalog.Room
	seen := map[string]bool{}
	for i, doc := range splitYAML(b) {
		var obj v1alpha1.Room
		if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if obj.APIVersion != v1alpha1.APIVersion || obj.Kind != v1alpha1.Kind {
			return nil, fmt.Errorf("document %d: want apiVersion %s kind %s, got %s %s",
				i+1, v1alpha1.APIVersion, v1alpha1.Kind, obj.APIVersion, obj.Kind)
		}
		r, err := FromSpec(obj.RoomID(), &obj.Spec)
		if err != nil {
			return nil, fmt.Errorf("room %s: %w", obj.RoomID(), err)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("room id %s is declared twice", r.ID)
		}
		seen[r.ID] = true
		out = append(out, r)
	}
	return out, nil
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

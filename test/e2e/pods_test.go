package e2e

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// Pods never run in the test's API server (no kubelet, no container
// runtime), so the test does the kubelet's part for the objects helm
// installed: it reads the container of the StatefulSet or Deployment from
// the API server, resolves its environment (values, the downward API,
// Secret keys) and expands $(VAR) in its arguments as the kubelet does, and
// runs the real binary with them as a local process. Only what ties a pod to
// the pod network is replaced (listen and gossip addresses, the seed list,
// the data volume), and the service account's token is handed over as a
// kubeconfig, as the in-cluster configuration would.

// podContainer is the part of a container spec the test runs.
type podContainer struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
	Env  []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `json:"fieldPath"`
			} `json:"fieldRef"`
			SecretKeyRef *struct {
				Name string `json:"name"`
				Key  string `json:"key"`
			} `json:"secretKeyRef"`
			ResourceFieldRef *struct {
				Resource string `json:"resource"`
				Divisor  string `json:"divisor"`
			} `json:"resourceFieldRef"`
		} `json:"valueFrom"`
	} `json:"env"`
	Resources struct {
		Limits map[string]string `json:"limits"`
	} `json:"resources"`
}

// workload returns the pod template's service account and its one
// container of the StatefulSet or Deployment kind/name.
func (c *cluster) workload(kind, name string) (serviceAccount string, ctr podContainer) {
	c.t.Helper()
	var obj struct {
		Spec struct {
			Template struct {
				Spec struct {
					ServiceAccountName string         `json:"serviceAccountName"`
					Containers         []podContainer `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	out := c.kubectl("-n", ns, "get", kind, name, "-o", "json")
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		c.t.Fatalf("%s %s: %v", kind, name, err)
	}
	pod := obj.Spec.Template.Spec
	if len(pod.Containers) != 1 || pod.ServiceAccountName == "" {
		c.t.Fatalf("%s %s: want one container and a service account, got %+v", kind, name, pod)
	}
	return pod.ServiceAccountName, pod.Containers[0]
}

// podEnv resolves a container's environment for a pod named podName with
// address podIP, as the kubelet would.
func (c *cluster) podEnv(ctr podContainer, podName, podIP string) map[string]string {
	c.t.Helper()
	env := map[string]string{}
	secrets := map[string]map[string]string{}
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expandVars(e.Value, env)
		case e.ValueFrom.FieldRef != nil:
			switch p := e.ValueFrom.FieldRef.FieldPath; p {
			case "metadata.name":
				env[e.Name] = podName
			case "metadata.namespace":
				env[e.Name] = ns
			case "status.podIP":
				env[e.Name] = podIP
			default:
				c.t.Fatalf("container %s: env %s from field %s: not emulated", ctr.Name, e.Name, p)
			}
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			if secrets[ref.Name] == nil {
				secrets[ref.Name] = c.secretData(ref.Name)
			}
			v, ok := secrets[ref.Name][ref.Key]
			if !ok {
				c.t.Fatalf("container %s: env %s: Secret %s has no key %s", ctr.Name, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.ResourceFieldRef != nil:
			ref := e.ValueFrom.ResourceFieldRef
			env[e.Name] = c.resourceField(ctr, e.Name, ref.Resource, ref.Divisor)
		default:
			c.t.Fatalf("container %s: env %s: valueFrom not emulated", ctr.Name, e.Name)
		}
	}
	return env
}

// resourceField resolves env's resourceFieldRef as the kubelet does for a
// limit the container sets: the quantity divided by the divisor (unset or
// 0: 1), rounded up. A limit the container does not set (the kubelet would
// use the node's allocatable) is not emulated.
func (c *cluster) resourceField(ctr podContainer, env, res, div string) string {
	c.t.Helper()
	name, ok := strings.CutPrefix(res, "limits.")
	limit, set := ctr.Resources.Limits[name]
	if !ok || !set {
		c.t.Fatalf("container %s: env %s from %s: not emulated (only limits the container sets)", ctr.Name, env, res)
	}
	q, divisor := resource.MustParse(limit), resource.MustParse("1")
	if d := resource.MustParse(cmp.Or(div, "0")); !d.IsZero() { // the API server stores "0": the default, 1
		divisor = d
	}
	v := (q.MilliValue() + divisor.MilliValue() - 1) / divisor.MilliValue()
	return strconv.FormatInt(v, 10)
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandVars expands $(VAR) references to defined variables, leaving others
// as they are (the kubelet's rule, without the $$ escape the chart does not
// use).
func expandVars(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// podArgs expands the container's arguments with env and then applies set:
// each named flag, which the chart must pass as --name=value, gets the new
// value, or is dropped when the value is "".
func podArgs(t *testing.T, ctr podContainer, env map[string]string, set map[string]string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, a := range ctr.Args {
		a = expandVars(a, env)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if v, ok := set[name]; ok && strings.HasPrefix(a, "--") && hasValue {
			seen[name] = true
			if v != "" {
				out = append(out, "--"+name+"="+v)
			}
			continue
		}
		if strings.Contains(a, "$(") {
			t.Fatalf("container %s: argument %q refers to an undefined variable", ctr.Name, a)
		}
		out = append(out, a)
	}
	for name := range set {
		if !seen[name] {
			t.Fatalf("container %s: the chart no longer passes --%s=...; the test replaces it (args %q)", ctr.Name, name, ctr.Args)
		}
	}
	return out
}

// serviceAccountKubeconfig writes a kubeconfig holding a token of the
// service account (TokenRequest, as a projected token volume gets one): the
// process gets exactly the RBAC the chart gave the account.
func (c *cluster) serviceAccountKubeconfig(sa string) string {
	c.t.Helper()
	token := strings.TrimSpace(c.kubectl("-n", ns, "create", "token", sa, "--duration=1h"))
	server := c.cfg.Host
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: %s
  context:
    cluster: e2e
    user: %s
    namespace: %s
current-context: %s
`, server, base64.StdEncoding.EncodeToString(c.cfg.CAData), sa, token, sa, sa, ns, sa)
	path := filepath.Join(c.t.TempDir(), sa+".kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// startProc runs bin with args and exactly the environment env (a
// container's, plus PATH and HOME), and kills it when the test ends.
func startProc(t *testing.T, pod, bin string, args []string, env map[string]string) *nodeproc.Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return nodeproc.Start(t, pod, cmd)
}

// httpGet GETs url with an optional bearer token.
func httpGet(url, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

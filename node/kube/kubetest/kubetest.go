// Package kubetest runs a real kube-apiserver and etcd (controller-runtime's
// envtest, with the binaries hack/build-test-binaries.sh builds into bin/)
// with the Room CRD installed, for the tests of the operator and of nodes
// under Kubernetes.
package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/roomring/roomring/api/v1alpha1"
)

// StartTimeout bounds the start of each of etcd and kube-apiserver; CI's
// two shared cores need more than envtest's 20 s default at times.
const StartTimeout = 90 * time.Second

// Env is a running API server with the Room CRD.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file for Config (kubectl,
	// nodes' --kubeconfig).
	Kubeconfig string
	// Client is a direct (uncached) client of Config.
	Client client.Client
	// Scheme knows the core types and Rooms.
	Scheme *kruntime.Scheme

	env *envtest.Environment
	dir string
}

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Start starts etcd and kube-apiserver from bin/ and installs the CRDs of
// config/crd/bases. Missing binaries are an error that says how to build
// them (make test-binaries).
func Start() (*Env, error) {
	root := RepoRoot()
	bin := filepath.Join(root, "bin")
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("bin/%s is missing: run `make test-binaries` (it builds etcd and kube-apiserver from the Go module proxy): %w", b, err)
		}
	}
	scheme := kruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	env := &envtest.Environment{
		BinaryAssetsDirectory:    bin,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		Scheme:                   scheme,
		ControlPlaneStartTimeout: StartTimeout,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd: %w", err)
	}
	e := &Env{Config: cfg, Scheme: scheme, env: env}
	if e.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, errors.Join(fmt.Errorf("client: %w", err), env.Stop())
	}
	if e.dir, err = os.MkdirTemp("", "kubetest-"); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	e.Kubeconfig = filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(e.Kubeconfig, env.KubeConfig, 0o600); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return e, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error {
	err := e.env.Stop()
	if e.dir != "" {
		err = errors.Join(err, os.RemoveAll(e.dir))
	}
	return err
}

// Main runs a test binary's tests against one Env, stored in *env, then
// runs cleanups: call it from TestMain.
func Main(m *testing.M, env **Env, cleanups ...func()) {
	e, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubetest:", err)
		os.Exit(1)
	}
	*env = e
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "kubetest: stop:", err)
	}
	os.Exit(code)
}

// Namespace creates a namespace of a fresh name for one test. (envtest has
// no namespace controller, so it is not deleted; tests never share one.)
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "t-" + hex.EncodeToString(b)}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// User is a user of the API server with no rights until a binding grants
// some (the API server authorizes with RBAC).
type User struct {
	Name string
	// Config reaches the API server as the user.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file for Config.
	Kubeconfig string
}

// AddUser creates a user named name (client-certificate authentication).
func (e *Env) AddUser(t testing.TB, name string) User {
	t.Helper()
	u, err := e.env.ControlPlane.AddUser(envtest.User{Name: name}, e.Config)
	if err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	kc, err := u.KubeConfig()
	if err != nil {
		t.Fatalf("kubeconfig of %s: %v", name, err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return User{Name: name, Config: u.Config(), Kubeconfig: path}
}

// Raw encodes v as a RawExtension (a Room's scheduleData or module config).
func Raw(t testing.TB, v any) *kruntime.RawExtension {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &kruntime.RawExtension{Raw: b}
}

package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roomring/roomring/api/adminapi"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// `roomring operator` as a real process: the manager with leader election,
// health probes and metrics, reconciling Rooms against the test API server.

func httpGet(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestOperatorProcess(t *testing.T) {
	bin := nodeproc.Binary(t)
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	metrics, probes := nodeproc.FreeAddr(t, "127.0.0.1"), nodeproc.FreeAddr(t, "127.0.0.1")
	cmd := exec.Command(bin, "operator", "--kubeconfig", env.Kubeconfig, "--pool", n.Addr(),
		"--watch-namespace", ns, "--leader-elect", "--leader-election-namespace", ns, "--leader-election-id", "roomring-operator",
		"--metrics-bind-address", metrics, "--health-probe-bind-address", probes,
		"--status-interval", "300ms", "--pool-poll-interval", "200ms")
	cmd.Env = append(os.Environ(), adminapi.TokenEnv+"="+token)
	op := nodeproc.Start(t, "operator", cmd)

	for _, p := range []string{"/healthz", "/readyz"} {
		testkit.EventuallyNil(t, wait, "operator "+p, func() error {
			code, body, err := httpGet("http://" + probes + p)
			if err != nil || code != http.StatusOK {
				return fmt.Errorf("%d %q %v", code, body, err)
			}
			return nil
		})
	}
	create(t, newRoom(ns, "hall", "", "Hall"))
	waitStatus(t, ns, "hall", "ready", ready("node-a"))

	var lease coordinationv1.Lease
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "roomring-operator"}, &lease); err != nil ||
		lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Fatalf("leader election Lease: %+v, %v", lease.Spec, err)
	}
	testkit.EventuallyNil(t, wait, "reconcile metrics", func() error {
		code, body, err := httpGet("http://" + metrics + "/metrics")
		if err != nil || code != http.StatusOK || !strings.Contains(body, `controller_runtime_reconcile_total{controller="room",result="success"}`) {
			return fmt.Errorf("%d %v: no successful room reconciles in the metrics", code, err)
		}
		for _, m := range []string{`roomring_operator_rooms{phase="Ready"} 1`, "roomring_operator_pool_up 1", "roomring_operator_pool_members 1"} {
			if !strings.Contains(body, m+"\n") {
				return fmt.Errorf("no %q in the metrics", m)
			}
		}
		return nil
	})

	// SIGTERM: the leader steps down and the process exits 0.
	if err := op.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := op.Wait(30 * time.Second); err != nil {
		t.Fatalf("operator exited with %v", err)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "roomring-operator"}, &lease); err != nil ||
		lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" {
		t.Fatalf("Lease after shutdown: holder %v, %v; want released", lease.Spec.HolderIdentity, err)
	}
}

func TestOperatorFlags(t *testing.T) {
	bin := nodeproc.Binary(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"operator", "--pool-token", token}, "--pool is required"},
		{[]string{"operator", "--pool", "pool.svc", "--pool-token", token}, "want HOST:PORT"},
		{[]string{"operator", "--pool", "127.0.0.1:1"}, "--pool-token"},
		{[]string{"operator", "--pool", "127.0.0.1:1", "--pool-token", token, "--status-interval", "0s"}, "--status-interval"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), adminapi.TokenEnv+"=")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: %v\n%s\nwant an exit with %q", tc.args, err, out, tc.want)
		}
	}
}

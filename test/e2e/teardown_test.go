package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/roomring/roomring/internal/testkit"
)

// uninstall runs helm uninstall and does the kubelet's part for its
// post-delete hook: once helm has deleted the release's objects and created
// the hook Job, the Job's container runs as a process while the operator is
// still stopping (the Job waits for its Lease), the operator gets SIGTERM as
// its deleted Deployment's pod would, and the Job is marked complete, which
// helm waits for.
func (l *lifecycle) uninstall() {
	t, c := l.t, l.c
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		cmd := exec.Command(c.helm, "uninstall", release, "-n", ns, "--timeout", "120s")
		cmd.Env, cmd.Stdout, cmd.Stderr = c.env, &out, &out
		done <- cmd.Run()
	}()
	job := full + "-teardown"
	testkit.EventuallyNil(t, 60*time.Second, "the post-delete hook Job", func() error {
		_, err := c.try("kubectl", "-n", ns, "get", "job", job)
		return err
	})
	if _, err := c.try("kubectl", "-n", ns, "get", "deployment", full+"-operator"); err == nil {
		t.Fatal("the post-delete hook runs while the operator's Deployment exists")
	}
	sa, ctr := c.workload("job", job)
	env := c.podEnv(ctr, job+"-x", "127.0.0.31")
	env["KUBECONFIG"] = c.serviceAccountKubeconfig(sa)
	hook := startProc(t, job+"-x", l.bin, podArgs(t, ctr, env, nil), env)

	if err := l.operator.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := l.operator.Wait(30 * time.Second); err != nil {
		t.Errorf("the operator on SIGTERM: %v", err)
	}
	if err := hook.Wait(60 * time.Second); err != nil {
		t.Fatalf("release-finalizers: %v\n%s", err, hook.Output())
	}
	t.Logf("the hook: %s", hook.Output())
	completeJob(l, job)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("helm uninstall: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("helm uninstall did not return after its hook completed:\n%s", out.String())
	}
	// hook-succeeded: the hook's objects are gone with it.
	testkit.EventuallyNil(t, 30*time.Second, "the hook's objects deleted", func() error {
		for _, o := range []string{"job/" + job, "serviceaccount/" + job, "role/" + job, "rolebinding/" + job} {
			if _, err := c.try("kubectl", "-n", ns, "get", o); err == nil {
				return fmt.Errorf("%s still there", o)
			}
		}
		return nil
	})
}

// completeJob marks the Job as the job controller would once its pod
// succeeded (envtest runs no controller-manager).
func completeJob(l *lifecycle, job string) {
	now := time.Now().UTC().Format(time.RFC3339)
	status := fmt.Sprintf(`{"status":{"startTime":%q,"completionTime":%q,"succeeded":1,"conditions":[`+
		`{"type":"SuccessCriteriaMet","status":"True","lastTransitionTime":%q},`+
		`{"type":"Complete","status":"True","lastTransitionTime":%q}]}}`, now, now, now, now)
	l.c.kubectl("-n", ns, "patch", "job", job, "--subresource=status", "--type=merge", "-p", status)
}

// deleteEverything: after uninstall the Rooms are still there without the
// operator's finalizer; deleting one completes, and deleting the CRD — the
// apiextensions server deletes its Rooms first — completes too.
func (l *lifecycle) deleteEverything() {
	t, c := l.t, l.c
	for _, name := range lifecycleRooms {
		if f := l.finalizers(name); len(f) != 0 {
			t.Errorf("room %s after helm uninstall: finalizers %v", name, f)
		}
	}
	c.kubectl("-n", ns, "delete", "room", lifecycleRooms[0], "--timeout=30s")
	if got := names(c.getJSON("-n", ns, "rooms")); !slices.Equal(got, lifecycleRooms[1:]) {
		t.Errorf("Rooms after deleting %s: %v", lifecycleRooms[0], got)
	}
	c.kubectl("delete", "crd", "rooms.roomring.dev", "--timeout=60s")
	if _, err := c.try("kubectl", "get", "crd", "rooms.roomring.dev"); err == nil {
		t.Error("the CRD outlived its deletion")
	}
}

package kubernetes

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/redspin/redspin/internal/redisurl"
)

// kustomization mirrors the kustomize fields used here (kustomize's own
// module is too heavy to import); unknown fields fail the strict parse.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources,omitempty"`
	Patches    []struct {
		Path string `json:"path"`
	} `json:"patches,omitempty"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
	Labels []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels,omitempty"`
}

// customHeader is the apiVersion, kind and name of a custom resource.
type customHeader struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// scaledObject mirrors KEDA's keda.sh/v1alpha1 ScaledObject (the fields of
// its CRD that these manifests may use).
type scaledObject struct {
	customHeader
	Spec struct {
		ScaleTargetRef *struct {
			Name       string `json:"name"`
			Kind       string `json:"kind,omitempty"`
			APIVersion string `json:"apiVersion,omitempty"`
		} `json:"scaleTargetRef,omitempty"`
		MinReplicaCount *int32        `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32        `json:"maxReplicaCount,omitempty"`
		PollingInterval *int32        `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32        `json:"cooldownPeriod,omitempty"`
		Triggers        []kedaTrigger `json:"triggers,omitempty"`
	} `json:"spec"`
}

type kedaTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	} `json:"authenticationRef,omitempty"`
}

// kedaMetadata are the metadata keys KEDA's Redis stream scalers read, by type.
var kedaMetadata = map[string][]string{
	"redis-streams":          {"address", "host", "port", "databaseIndex", "enableTLS", "unsafeSsl", "stream", "consumerGroup", "pendingEntriesCount", "lagCount", "activationLagCount", "streamLength"},
	"redis-cluster-streams":  {"addresses", "hosts", "ports", "enableTLS", "unsafeSsl", "stream", "consumerGroup", "pendingEntriesCount", "lagCount", "activationLagCount", "streamLength"},
	"redis-sentinel-streams": {"addresses", "hosts", "ports", "sentinelMaster", "sentinelUsername", "enableTLS", "unsafeSsl", "stream", "consumerGroup", "pendingEntriesCount", "lagCount", "activationLagCount", "streamLength", "databaseIndex"},
}

type triggerAuthentication struct {
	customHeader
	Spec struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// objects is every object of one kustomization tree, by kind then name,
// with patches applied in the simple ways these manifests use.
type objects struct {
	deployments map[string]*appsv1.Deployment
	pdbs        map[string]*policyv1.PodDisruptionBudget
	secrets     map[string]*corev1.Secret
	scaled      map[string]*scaledObject
	auths       map[string]*triggerAuthentication
}

func strict(t *testing.T, file string, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func docs(t *testing.T, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// build loads the kustomization in dir: its resources (recursively), then
// its patches (strategic merge for Deployments as far as used here: env
// entries by name and scalar fields; whole-list replacement for the custom
// resources, as kustomize does for them; `$patch: delete`).
func build(t *testing.T, dir string) *objects {
	t.Helper()
	file := filepath.Join(dir, "kustomization.yaml")
	var k kustomization
	strict(t, file, docs(t, file)[0], &k)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("%s: apiVersion/kind %s/%s", file, k.APIVersion, k.Kind)
	}
	o := &objects{map[string]*appsv1.Deployment{}, map[string]*policyv1.PodDisruptionBudget{}, map[string]*corev1.Secret{}, map[string]*scaledObject{}, map[string]*triggerAuthentication{}}
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			sub := build(t, p)
			o.merge(sub)
			continue
		}
		for _, d := range docs(t, p) {
			o.add(t, p, d)
		}
	}
	for _, pt := range k.Patches {
		p := filepath.Join(dir, pt.Path)
		for _, d := range docs(t, p) {
			o.patch(t, p, d)
		}
	}
	for _, img := range k.Images {
		for _, dep := range o.deployments {
			for i, c := range dep.Spec.Template.Spec.Containers {
				if name, _, _ := strings.Cut(c.Image, ":"); name == img.Name {
					dep.Spec.Template.Spec.Containers[i].Image = img.NewName + ":" + img.NewTag
				}
			}
		}
	}
	return o
}

func (o *objects) merge(s *objects) {
	for k, v := range s.deployments {
		o.deployments[k] = v
	}
	for k, v := range s.pdbs {
		o.pdbs[k] = v
	}
	for k, v := range s.secrets {
		o.secrets[k] = v
	}
	for k, v := range s.scaled {
		o.scaled[k] = v
	}
	for k, v := range s.auths {
		o.auths[k] = v
	}
}

func kindOf(t *testing.T, file string, doc []byte) (kind, name string, del bool) {
	t.Helper()
	var meta struct {
		Kind     string `json:"kind"`
		Patch    string `json:"$patch"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return meta.Kind, meta.Metadata.Name, meta.Patch == "delete"
}

func (o *objects) add(t *testing.T, file string, doc []byte) {
	t.Helper()
	kind, name, _ := kindOf(t, file, doc)
	switch kind {
	case "Deployment":
		var d appsv1.Deployment
		strict(t, file, doc, &d)
		o.deployments[name] = &d
	case "PodDisruptionBudget":
		var p policyv1.PodDisruptionBudget
		strict(t, file, doc, &p)
		o.pdbs[name] = &p
	case "Secret":
		var s corev1.Secret
		strict(t, file, doc, &s)
		o.secrets[name] = &s
	case "ScaledObject":
		var s scaledObject
		strict(t, file, doc, &s)
		o.scaled[name] = &s
	case "TriggerAuthentication":
		var a triggerAuthentication
		strict(t, file, doc, &a)
		o.auths[name] = &a
	default:
		t.Fatalf("%s: unexpected kind %q", file, kind)
	}
}

func (o *objects) patch(t *testing.T, file string, doc []byte) {
	t.Helper()
	kind, name, del := kindOf(t, file, doc)
	if del {
		switch kind {
		case "ScaledObject":
			delete(o.scaled, name)
		default:
			t.Fatalf("%s: delete of %s not handled", file, kind)
		}
		return
	}
	switch kind {
	case "Deployment":
		var p appsv1.Deployment
		d := patchTarget(t, file, doc, &p, o.deployments, name)
		if p.Spec.Replicas != nil {
			d.Spec.Replicas = p.Spec.Replicas
		}
		if p.Spec.Strategy.Type != "" {
			d.Spec.Strategy = p.Spec.Strategy
		}
		for _, pc := range p.Spec.Template.Spec.Containers {
			for i := range d.Spec.Template.Spec.Containers {
				c := &d.Spec.Template.Spec.Containers[i]
				if c.Name != pc.Name {
					continue
				}
				for _, e := range pc.Env {
					if j := slices.IndexFunc(c.Env, func(x corev1.EnvVar) bool { return x.Name == e.Name }); j >= 0 {
						c.Env[j] = e
					} else {
						c.Env = append(c.Env, e)
					}
				}
			}
		}
	case "ScaledObject":
		var p scaledObject
		s := patchTarget(t, file, doc, &p, o.scaled, name)
		if p.Spec.Triggers != nil {
			s.Spec.Triggers = p.Spec.Triggers
		}
		if p.Spec.MaxReplicaCount != nil {
			s.Spec.MaxReplicaCount = p.Spec.MaxReplicaCount
		}
		if p.Spec.MinReplicaCount != nil {
			s.Spec.MinReplicaCount = p.Spec.MinReplicaCount
		}
	case "Secret":
		var p corev1.Secret
		sec := patchTarget(t, file, doc, &p, o.secrets, name)
		for k, v := range p.StringData {
			sec.StringData[k] = v
		}
	default:
		t.Fatalf("%s: patch of %s not handled", file, kind)
	}
}

// patchTarget parses the patch doc strictly into p and returns the object
// it patches.
func patchTarget[T any](t *testing.T, file string, doc []byte, p *T, objs map[string]*T, name string) *T {
	t.Helper()
	strict(t, file, doc, p)
	target := objs[name]
	if target == nil {
		t.Fatalf("%s: patches missing %T %q", file, p, name)
	}
	return target
}

// appTrigger is the example app's stream trigger, with the group default
// "<app name>-<component id>".
func appTrigger(t *testing.T) (stream, group string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("overlays", "example", "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Application struct{ Name string }
		Trigger     map[string][]struct {
			Stream, Group, Component string
		}
	}
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	ts := m.Trigger["redis-stream"]
	if len(ts) != 1 {
		t.Fatalf("example app: want one redis-stream trigger, got %d", len(ts))
	}
	group = ts[0].Group
	if group == "" {
		group = m.Application.Name + "-" + ts[0].Component
	}
	return ts[0].Stream, group
}

// flags returns the container's --name=value arguments.
func flags(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, a := range c.Args {
		if k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && strings.HasPrefix(a, "--") {
			out[k] = v
		}
	}
	return out
}

func checkDeployment(t *testing.T, o *objects) *appsv1.Deployment {
	t.Helper()
	d := o.deployments["redspin"]
	if d == nil {
		t.Fatal("no Deployment redspin")
	}
	ps := d.Spec.Template.Spec
	if len(ps.Containers) != 1 {
		t.Fatalf("containers: %d", len(ps.Containers))
	}
	c := ps.Containers[0]
	f := flags(c)
	if len(c.Args) == 0 || c.Args[0] != "up" {
		t.Errorf("args must start with up: %v", c.Args)
	}
	_, adminPort, ok := strings.Cut(f["listen-admin"], ":")
	if !ok {
		t.Fatalf("--listen-admin %q", f["listen-admin"])
	}
	port := c.Ports[slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "admin" })]
	if strconv.Itoa(int(port.ContainerPort)) != adminPort {
		t.Errorf("admin port %d, --listen-admin port %s", port.ContainerPort, adminPort)
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"startup", c.StartupProbe, "/readyz"}} {
		if pr.probe == nil || pr.probe.HTTPGet == nil || pr.probe.HTTPGet.Path != pr.path || pr.probe.HTTPGet.Port.String() != "admin" {
			t.Errorf("%s probe: want GET %s on the admin port: %+v", pr.name, pr.path, pr.probe)
		}
	}
	// Liveness must survive a Redis restart: at least 60 s of failures.
	if lp := c.LivenessProbe; lp.PeriodSeconds*lp.FailureThreshold < 60 {
		t.Errorf("liveness tolerates only %d s of /healthz failures", lp.PeriodSeconds*lp.FailureThreshold)
	}
	st, err := time.ParseDuration(f["shutdown-timeout"])
	if err != nil {
		t.Fatalf("--shutdown-timeout: %v", err)
	}
	if g := ps.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= st {
		t.Errorf("terminationGracePeriodSeconds must exceed --shutdown-timeout %v", st)
	}
	// The consumer name comes from the pod name.
	if f["consumer"] != "$(POD_NAME)" {
		t.Errorf("--consumer %q, want $(POD_NAME)", f["consumer"])
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["POD_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("POD_NAME must come from metadata.name: %+v", e)
	}
	if f["from-registry"] != "$(APP_REF)" || env["APP_REF"].Value == "" {
		t.Errorf("the app must come from APP_REF: %v %+v", f["from-registry"], env["APP_REF"])
	}
	for name, e := range env {
		if strings.HasPrefix(name, "SPIN_VARIABLE_") && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("%s must come from a Secret", name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			if s := o.secrets[e.ValueFrom.SecretKeyRef.Name]; s != nil {
				if _, ok := s.StringData[e.ValueFrom.SecretKeyRef.Key]; !ok {
					t.Errorf("%s: Secret %s has no key %s", name, s.Name, e.ValueFrom.SecretKeyRef.Key)
				}
			}
		}
	}
	// Read-only root, with emptyDirs for the cache, the state dir and /tmp.
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container security context: %+v", sc)
	}
	if psc := ps.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod must run as non-root: %+v", ps.SecurityContext)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	for _, dir := range []string{f["cache-dir"], f["state-dir"], "/tmp"} {
		name, ok := mounts[dir]
		if !ok {
			t.Errorf("%q is not a mounted volume", dir)
			continue
		}
		i := slices.IndexFunc(ps.Volumes, func(v corev1.Volume) bool { return v.Name == name })
		if i < 0 || ps.Volumes[i].EmptyDir == nil {
			t.Errorf("volume %q for %s must be an emptyDir", name, dir)
		}
	}
	if r := c.Resources; r.Requests.Memory().IsZero() || r.Limits.Memory().Cmp(*r.Requests.Memory()) <= 0 {
		t.Errorf("memory request/limit: %v / %v", r.Requests.Memory(), r.Limits.Memory())
	}
	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != adminPort || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("Prometheus annotations: %v", ann)
	}
	for _, p := range o.pdbs {
		for k, v := range p.Spec.Selector.MatchLabels {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("PodDisruptionBudget %s does not select the pods (%s=%s)", p.Name, k, v)
			}
		}
	}
	if len(o.pdbs) != 1 {
		t.Errorf("want one PodDisruptionBudget, got %d", len(o.pdbs))
	}
	return d
}

func checkScaling(t *testing.T, o *objects, wantType string) {
	t.Helper()
	s := o.scaled["redspin"]
	if s == nil {
		t.Fatal("no ScaledObject redspin")
	}
	if s.Spec.ScaleTargetRef == nil || o.deployments[s.Spec.ScaleTargetRef.Name] == nil {
		t.Errorf("scaleTargetRef does not name the Deployment")
	}
	stream, group := appTrigger(t)
	var lag, pending bool
	for _, tr := range s.Spec.Triggers {
		if tr.Type != wantType {
			t.Errorf("trigger %s: type %q, want %q", tr.Name, tr.Type, wantType)
		}
		for k := range tr.Metadata {
			if !slices.Contains(kedaMetadata[tr.Type], k) {
				t.Errorf("trigger %s: %s has no metadata %q", tr.Name, tr.Type, k)
			}
		}
		if tr.Metadata["stream"] != stream || tr.Metadata["consumerGroup"] != group {
			t.Errorf("trigger %s: stream %q group %q, the app has %q %q", tr.Name, tr.Metadata["stream"], tr.Metadata["consumerGroup"], stream, group)
		}
		for _, k := range []string{"address", "addresses"} {
			for a := range strings.SplitSeq(tr.Metadata[k], ",") {
				if strings.Contains(a, "://") || (a != "" && !strings.Contains(a, ":")) {
					t.Errorf("trigger %s: %s entry %q must be host:port", tr.Name, k, a)
				}
			}
		}
		lag = lag || tr.Metadata["lagCount"] != ""
		pending = pending || tr.Metadata["pendingEntriesCount"] != ""
		ref := tr.AuthenticationRef
		if ref == nil || o.auths[ref.Name] == nil {
			t.Errorf("trigger %s: authenticationRef does not name a TriggerAuthentication", tr.Name)
		}
	}
	// Lag wakes from zero and pending guards scale-in; else keep a replica.
	if !(lag && pending) && (s.Spec.MinReplicaCount == nil || *s.Spec.MinReplicaCount < 1) {
		t.Error("without both a lag and a pending trigger, minReplicaCount must be at least 1")
	}
	for _, a := range o.auths {
		for _, r := range a.Spec.SecretTargetRef {
			if sec := o.secrets[r.Name]; sec != nil {
				if _, ok := sec.StringData[r.Key]; !ok {
					t.Errorf("TriggerAuthentication %s: Secret %s has no key %s", a.Metadata.Name, r.Name, r.Key)
				}
			}
		}
	}
}

func TestBaseParses(t *testing.T) {
	o := build(t, "base")
	if len(o.deployments) != 1 || len(o.scaled) != 1 || len(o.auths) != 1 {
		t.Fatalf("base: %d deployments, %d scaled objects, %d trigger authentications", len(o.deployments), len(o.scaled), len(o.auths))
	}
}

func TestExampleOverlay(t *testing.T) {
	o := build(t, filepath.Join("overlays", "example"))
	d := checkDeployment(t, o)
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/example/redspin:v0.1.0" {
		t.Errorf("image %q", img)
	}
	checkScaling(t, o, "redis-streams")
}

func TestRedisClusterAndSentinelVariants(t *testing.T) {
	for dir, typ := range map[string]string{"redis-cluster": "redis-cluster-streams", "redis-sentinel": "redis-sentinel-streams"} {
		t.Run(dir, func(t *testing.T) {
			o := build(t, filepath.Join("variants", dir))
			checkDeployment(t, o)
			checkScaling(t, o, typ)
			u, err := redisurl.Parse(o.secrets["redspin-app"].StringData["redis-url"])
			if want := strings.TrimPrefix(dir, "redis-"); err != nil || u.Topology.String() != want || len(u.Nodes) != 3 {
				t.Errorf("redis-url: %v, %v; want a %s URL with 3 nodes", u, err, want)
			}
		})
	}
}

func TestPubSubVariantIsOneReplica(t *testing.T) {
	o := build(t, filepath.Join("variants", "pubsub"))
	d := checkDeployment(t, o)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("pub/sub: replicas %v strategy %q, want 1 and Recreate", d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	if len(o.scaled) != 0 {
		t.Error("pub/sub must not be autoscaled")
	}
}

// TestStrictParsingFails makes sure an unknown field is caught.
func TestStrictParsingFails(t *testing.T) {
	var d appsv1.Deployment
	err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicaz: 2\n"), &d)
	if err == nil || !strings.Contains(err.Error(), "replicaz") {
		t.Fatalf("unknown field not refused: %v", err)
	}
	var s scaledObject
	if err := yaml.UnmarshalStrict([]byte("spec:\n  minReplicas: 1\n"), &s); err == nil {
		t.Fatal("unknown ScaledObject field not refused")
	}
}

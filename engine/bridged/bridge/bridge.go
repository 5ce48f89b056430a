// Package bridge serves a Terraform Plugin Framework provider as a Pulumi resource plugin.
//
// It owns what pulumi-tls and pulumi-random add around the upstream providers for this project: the
// resource tokens and field shapes the pinned Python SDKs (pulumi_tls, pulumi_random) send, the version
// they ask the engine for, and the package schema. It deliberately does not embed a schema generated at
// build time (tfgen): the schema is generated in memory on the engine's rare GetSchema call, as the bridge's
// own dynamic provider does, so one `go build` makes a working plugin.
package bridge

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/spf13/afero"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// Spec is what differs between the bridged providers.
type Spec struct {
	Name     string // the Pulumi package name: tls, random
	Version  string // the version the Python SDK asks for (stamped by engine/build.sh)
	Prefix   string // the Terraform type prefix: tls_, random_
	Provider provider.Provider
	// Token names a Terraform type (without its prefix, as Terraform spells it in Pascal case) the
	// way the published package does: tls_private_key is PrivateKey, random_password RandomPassword.
	Token func(name string) string
	// Resources overrides per Terraform type, e.g. blocks the published package flattens to one object.
	Resources map[string]*tfbridge.ResourceInfo
}

// Main serves the provider until the engine stops it.
func Main(s Spec) {
	ctx := context.Background()
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(s.Provider),
		Name:         s.Name,
		Version:      s.Version,
		Resources:    s.Resources,
		MetadataInfo: &tfbridge.MetadataInfo{Path: "", Data: tfbridge.ProviderMetadata(nil)},
		Python:       &tfbridge.PythonInfo{RespectSchemaVersion: true},
		// The published packages treat a Terraform schema version 0 as explicit; state written by this
		// plugin then upgrades the same way theirs does.
		EnableZeroDefaultSchemaVersion: true,
	}
	makeToken := func(module, name string) (string, error) {
		return tokens.MakeStandard(s.Name)(module, s.Token(name))
	}
	info.MustComputeTokens(tokens.SingleModule(s.Prefix, "index", makeToken))

	meta := pfbridge.ProviderMetadata{
		XGetSchema: func(ctx context.Context, _ plugin.GetSchemaRequest) ([]byte, error) {
			g, err := tfgen.NewGenerator(tfgen.GeneratorOptions{
				Package: info.Name, Version: info.Version, Language: tfgen.Schema, ProviderInfo: info,
				Root: afero.NewMemMapFs(), XInMemoryDocs: true, SkipExamples: true,
				Sink: diag.DefaultSink(nil, nil, diag.FormatOptions{Color: colors.Never}),
			})
			if err != nil {
				return nil, err
			}
			generated, err := g.Generate()
			if err != nil {
				return nil, err
			}
			generated.PackageSpec.Version = info.Version
			return json.Marshal(generated.PackageSpec)
		},
	}
	pfbridge.Main(ctx, s.Name, info, meta)
}

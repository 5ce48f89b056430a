// pulumi-resource-kubernetes: upstream's cmd/pulumi-resource-kubernetes/main.go, with the schema the
// upstream `go generate` step would have embedded. The module on the proxy ships schema.json but not the
// generated schema-embed.json, so engine/build.sh writes both embed files next to this one before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}

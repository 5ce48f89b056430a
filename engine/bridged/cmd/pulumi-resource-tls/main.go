// pulumi-resource-tls: terraform-provider-tls, bridged under the tokens of the pulumi_tls Python SDK.
package main

import (
	"github.com/hashicorp/terraform-provider-tls/shim"

	"kafka-multiregion/engine/bridged/bridge"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
)

// version is the pulumi_tls release the Python SDK pins (requirements.txt); set by engine/build.sh.
var version = "0.0.0"

func main() {
	// pulumi_tls sends `subject` as one object (SelfSignedCertSubjectArgs); upstream declares it a list
	// block of at most one element, which the published package flattens.
	subject := map[string]*tfbridge.SchemaInfo{"subject": {MaxItemsOne: tfbridge.True()}}
	bridge.Main(bridge.Spec{
		Name: "tls", Version: version, Prefix: "tls_", Provider: shim.NewProvider(),
		Token: func(name string) string { return name },
		Resources: map[string]*tfbridge.ResourceInfo{
			"tls_self_signed_cert": {Fields: subject},
			"tls_cert_request":     {Fields: subject},
		},
	})
}

// pulumi-resource-random: terraform-provider-random, bridged under the tokens of the pulumi_random Python SDK.
package main

import (
	"github.com/terraform-providers/terraform-provider-random/shim"

	"kafka-multiregion/engine/bridged/bridge"
)

// version is the pulumi_random release the Python SDK pins (requirements.txt); set by engine/build.sh.
var version = "0.0.0"

func main() {
	bridge.Main(bridge.Spec{
		Name: "random", Version: version, Prefix: "random_", Provider: shim.NewProvider(),
		// random_password is random:index/randomPassword:RandomPassword in the published package.
		Token: func(name string) string { return "Random" + name },
	})
}

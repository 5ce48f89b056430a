// Package shim returns terraform-provider-random's Plugin Framework provider, which lives in an internal
// package only code under the provider's import path may import.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider is the upstream provider, unchanged.
func NewProvider() provider.Provider { return upstream.New() }

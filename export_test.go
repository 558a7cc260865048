package cognito

// TenantCounts says how many pools v keeps a Verifier for, how many refused
// issuers it remembers, and how many verified tokens its pools' shared cache
// holds, for tests of their bounds.
func TenantCounts(v *TenantVerifier) (tenants, refusals, tokens int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.entries), v.refused.len(), v.cache.len()
}

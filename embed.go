// Package taskapi holds the contract files that the binary carries: the OpenAPI document,
// served byte for byte at /openapi.yaml, and the database migrations. It is the one Go file at
// the top level because go:embed reaches only files at or below its own folder.
package taskapi

import "embed"

// OpenAPIYAML is openapi.yaml exactly as committed.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// Migrations holds db/migrations/*.sql, the schema as goose migrations.
//
//go:embed db/migrations/*.sql
var Migrations embed.FS

package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
)

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

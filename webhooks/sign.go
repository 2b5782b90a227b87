package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// secretPrefix starts every signing secret, as the Standard Webhooks
// specification has it.
const secretPrefix = "whsec_"

// NewSecret makes a signing secret: whsec_ and the base64 of 32 random
// bytes.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make webhook secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

// secretKey is the HMAC key a secret stands for: its base64 part decoded.
func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("a webhook secret starts with " + secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 24 {
		return nil, errors.New("a webhook secret is whsec_ and the base64 of at least 24 bytes")
	}
	return key, nil
}

// Sign is the webhook-signature of a message, "v1," and the base64 of
// HMAC-SHA256(key, id "." timestamp "." body), as the Standard Webhooks
// specification has it.
func Sign(secret, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Tolerance is how far a message's timestamp may be from the receiver's
// clock before Verify refuses it.
const Tolerance = 5 * time.Minute

// Verify checks a received message's headers against secret, as a
// receiver would: the signature (any of the space-separated v1 ones) over
// its ID, timestamp and body, and the timestamp within Tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("verify webhook: webhook-id, webhook-timestamp and webhook-signature are all needed")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook: webhook-timestamp %q is not a number of seconds", ts)
	}
	at := time.Unix(sec, 0)
	if at.Before(now.Add(-Tolerance)) || at.After(now.Add(Tolerance)) {
		return fmt.Errorf("verify webhook: webhook-timestamp %s is more than %s from now", at.UTC().Format(time.RFC3339), Tolerance)
	}
	want, err := Sign(secret, id, at, body)
	if err != nil {
		return fmt.Errorf("verify webhook: %w", err)
	}
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("verify webhook: no signature matches")
}

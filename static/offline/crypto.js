// Drafts at rest: AES-GCM with a key the server derives for this sign-in session (merchants/services/offline.py).
// The key is imported as non-extractable: a script can use it but never read it back, and once sign-out deletes
// the stored CryptoKey (and the server can no longer derive it) the ciphertext left behind is unreadable.
const enc = new TextEncoder(), dec = new TextDecoder();

function bytes(base64) {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** The session's raw key (base64, 32 bytes) as a non-extractable AES-GCM CryptoKey. */
export function importKey(base64) {
  return crypto.subtle.importKey("raw", bytes(base64), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** Encrypt a JSON value with a fresh 96-bit IV; the user id is bound in as additional data. */
export async function seal(key, userId, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: enc.encode(String(userId)) }, key, enc.encode(JSON.stringify(value)));
  return { iv, ct: new Uint8Array(ct) };
}

/** The JSON value back; throws when the key or the user id is not the one it was sealed with. */
export async function open(key, userId, sealed) {
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: sealed.iv, additionalData: enc.encode(String(userId)) }, key, sealed.ct);
  return JSON.parse(dec.decode(pt));
}

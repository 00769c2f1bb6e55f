'use strict'
// Snapshot signatures with WebCrypto (`crypto.subtle`, Ed25519): the web platform's
// verifier. The key is imported once, on the first verification (WebCrypto is async).
const { ClientError } = require('./errors.js')
const { notVerified, publicKeyBytes, signatureBytes } = require('./signature.js')

/** A base64 Ed25519 public key: checked now, imported into WebCrypto when first used. */
function parsePublicKey(text) {
  const raw = publicKeyBytes(text)
  let imported = null
  return {
    raw,
    cryptoKey: () => {
      imported ??= globalThis.crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify'])
      return imported
    },
  }
}

/** Checks `signature` (base64, 64 bytes) of `bytes`; rejects with a `signature_invalid` ClientError. */
async function verifySignature(key, bytes, signature) {
  const raw = signatureBytes(signature)
  let cryptoKey
  try {
    cryptoKey = await key.cryptoKey()
  } catch (error) {
    throw new ClientError('invalid_public_key', `WebCrypto cannot use the Ed25519 public key: ${error?.message ?? error}`)
  }
  let ok = false
  try {
    ok = await globalThis.crypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, raw, bytes)
  } catch {
    ok = false
  }
  if (!ok) throw notVerified()
}

module.exports = { parsePublicKey, verifySignature }

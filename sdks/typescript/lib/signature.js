'use strict'
// Snapshot signatures: Ed25519 over the exact bytes, base64 (docs/sdk.md, Refresh 7a).
const crypto = require('node:crypto')
const { ClientError } = require('./errors.js')

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function decodeBase64(text) {
  const trimmed = text.trim()
  if (!BASE64.test(trimmed) || trimmed.length % 4 !== 0) return null
  return Buffer.from(trimmed, 'base64')
}

/** A base64 Ed25519 public key (32 bytes) as a `KeyObject`. */
function parsePublicKey(text) {
  if (typeof text !== 'string') throw new ClientError('invalid_public_key', 'the public key must be a base64 string')
  const raw = decodeBase64(text)
  if (raw === null) throw new ClientError('invalid_public_key', 'the public key is not base64')
  if (raw.length !== 32) {
    throw new ClientError('invalid_public_key', `an Ed25519 public key has 32 bytes, not ${raw.length}`)
  }
  try {
    return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
  } catch (error) {
    throw new ClientError('invalid_public_key', `not an Ed25519 public key: ${error.message}`)
  }
}

/** Checks `signature` (base64, 64 bytes) of `bytes`; throws a `signature_invalid` ClientError. */
function verifySignature(key, bytes, signature) {
  const invalid = (why) => new ClientError('signature_invalid', why)
  if (typeof signature !== 'string' || signature.trim() === '') {
    throw invalid('the snapshot carries no signature and a public key is configured')
  }
  const raw = decodeBase64(signature)
  if (raw === null) throw invalid('the signature is not base64')
  if (raw.length !== 64) throw invalid(`malformed signature: ${raw.length} bytes, not 64`)
  let ok = false
  try {
    ok = crypto.verify(null, bytes, key, raw)
  } catch {
    ok = false
  }
  if (!ok) throw invalid("the snapshot's signature does not verify with the configured public key")
}

module.exports = { parsePublicKey, verifySignature }

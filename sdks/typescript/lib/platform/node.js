'use strict'
// The Node platform of the client (lib/client.js): pennon-node's Engine (the napi addon),
// an EventEmitter, node:http with unref'd sockets (lib/http.js), snapshot files (node:fs),
// node:crypto Ed25519 and process.env. The web platform (web.mjs) has the same shape.
const { EventEmitter } = require('node:events')
const crypto = require('node:crypto')
const fs = require('node:fs')
const { Engine } = require('pennon-node')
const { ClientError } = require('../errors.js')
const { Http } = require('../http.js')
const { notVerified, publicKeyBytes, signatureBytes } = require('../signature.js')

/** A base64 Ed25519 public key (32 bytes) as a `KeyObject`. */
function parsePublicKey(text) {
  const raw = publicKeyBytes(text)
  try {
    const x = Buffer.from(raw).toString('base64url')
    return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
  } catch (error) {
    throw new ClientError('invalid_public_key', `not an Ed25519 public key: ${error.message}`)
  }
}

/** Checks `signature` (base64, 64 bytes) of `bytes`; throws a `signature_invalid` ClientError. */
function verifySignature(key, bytes, signature) {
  const raw = signatureBytes(signature)
  let ok = false
  try {
    ok = crypto.verify(null, bytes, key, raw)
  } catch {
    ok = false
  }
  if (!ok) throw notVerified()
}

/** Snapshot files: read whole, and a stamp that changes when the file does. */
const files = {
  readSync: (path) => fs.readFileSync(path, 'utf8'),
  read: (path) => fs.promises.readFile(path, 'utf8'),
  async stamp(path) {
    const stat = await fs.promises.stat(path)
    return `${stat.mtimeMs}:${stat.size}`
  },
}

module.exports = {
  name: 'node',
  Emitter: EventEmitter,
  newEngine: () => new Engine(),
  Http,
  parsePublicKey,
  verifySignature,
  files,
  environment: () => process.env,
}

// Baseline for bench/docs_trace_bench.py: the same editing trace applied by Yjs in Node.js.
// Same document shape as the server (XmlFragment "default" > paragraph > XmlText), one
// transaction per patch. Prints one JSON line of figures.
//
// usage: node trace_bench.mjs <trace.json.gz> [limit]
import * as Y from 'yjs'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'

const [path, limitArg] = process.argv.slice(2)
const trace = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'))
const patches = []
for (const txn of trace.txns) for (const p of txn.patches) patches.push(p)
const limit = limitArg ? Math.min(Number(limitArg), patches.length) : patches.length

// 1. local editing: what crdt-benchmarks B4 times
const doc = new Y.Doc()
const fragment = doc.getXmlFragment('default')
const updates = []
doc.on('update', (u) => updates.push(u))
const paragraph = new Y.XmlElement('paragraph')
const text = new Y.XmlText()
paragraph.insert(0, [text])
fragment.insert(0, [paragraph])
let t0 = process.hrtime.bigint()
for (let i = 0; i < limit; i++) {
  const [pos, del, ins] = patches[i]
  doc.transact(() => {
    if (del > 0) text.delete(pos, del)
    if (ins) text.insert(pos, ins)
  })
}
const localMs = Number(process.hrtime.bigint() - t0) / 1e6

// 2. applying the resulting updates to another doc: the server's job in Yjs terms
const remote = new Y.Doc()
remote.getXmlFragment('default')
t0 = process.hrtime.bigint()
for (const u of updates) Y.applyUpdate(remote, u)
const applyMs = Number(process.hrtime.bigint() - t0) / 1e6

// 3. encode and load
t0 = process.hrtime.bigint()
const encoded = Y.encodeStateAsUpdate(remote)
const encodeMs = Number(process.hrtime.bigint() - t0) / 1e6
t0 = process.hrtime.bigint()
const loaded = new Y.Doc()
Y.applyUpdate(loaded, encoded)
const loadMs = Number(process.hrtime.bigint() - t0) / 1e6
// memory of an open (loaded) document: heap growth over 20 loaded copies
global.gc && global.gc()
const heapBefore = process.memoryUsage().heapUsed
const copies = []
for (let i = 0; i < 20; i++) {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, encoded)
  copies.push(copy)
}
global.gc && global.gc()
const heapPerDoc = (process.memoryUsage().heapUsed - heapBefore) / copies.length
const finalText = loaded.getXmlFragment('default').toArray()[0].toArray()[0].toString()

process.stdout.write(
  JSON.stringify({
    patches: limit,
    updates: updates.length,
    update_bytes: updates.reduce((n, u) => n + u.length, 0),
    local_ms: localMs,
    apply_ms: applyMs,
    apply_us_per_update: (applyMs * 1000) / updates.length,
    encoded_bytes: encoded.length,
    encode_ms: encodeMs,
    load_ms: loadMs,
    heap_per_loaded_doc_bytes: heapPerDoc,
    text_length: finalText.length,
    text_matches: limit === patches.length ? finalText === trace.endContent : null
  }) + '\n'
)

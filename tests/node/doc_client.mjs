// A stock Yjs + y-websocket client (WebsocketProvider, `ws` as the WebSocket implementation),
// driven by tests/docs_collab/test_node_interop.py. Nothing here knows the server is not the
// reference y-websocket server: that is the point of the test.
//
// usage: node doc_client.mjs <ws base url, e.g. ws://127.0.0.1:8000/ws/docs> <document id> <token>
//          [--write TEXT] [--expect TEXT ...] [--timeout MS]
// Prints one JSON line: {"synced": bool, "text": "...", "ok": bool, "peers": [names seen by awareness]}.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [base, documentId, token, ...rest] = process.argv.slice(2)
let write = null
const expect = []
let timeoutMs = 15000
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] === '--write') write = rest[i + 1]
  else if (rest[i] === '--expect') expect.push(rest[i + 1])
  else if (rest[i] === '--timeout') timeoutMs = Number(rest[i + 1])
}

const doc = new Y.Doc()
const fragment = doc.getXmlFragment('default') // Tiptap's Collaboration field name
const provider = new WebsocketProvider(base, `${documentId}/`, doc, {
  WebSocketPolyfill: WebSocket,
  params: { token },
  disableBc: true
})
provider.awareness.setLocalStateField('user', { name: 'node-client', color: '#30bced' })

const text = () =>
  fragment
    .toArray()
    .map((block) => (block instanceof Y.XmlElement ? block.toArray().map((t) => t.toString()).join('') : block.toString()))
    .join('\n')

const done = (ok) => {
  const names = [...provider.awareness.getStates().entries()]
    .filter(([clientId]) => clientId !== doc.clientID)
    .map(([, state]) => state.user && state.user.name)
    .filter(Boolean)
  process.stdout.write(JSON.stringify({ synced: provider.synced, text: text(), ok, peers: names }) + '\n')
  provider.destroy()
  setTimeout(() => process.exit(ok ? 0 : 1), 50)
}

const deadline = setTimeout(() => done(false), timeoutMs)

provider.on('sync', (isSynced) => {
  if (!isSynced || provider._hubWrote) return
  provider._hubWrote = true
  if (write !== null) {
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText(write)])
    fragment.push([paragraph])
  }
  const check = () => {
    const now = text()
    if (expect.every((e) => now.includes(e))) {
      clearTimeout(deadline)
      // give the last update time to leave before closing
      setTimeout(() => done(true), 300)
      return true
    }
    return false
  }
  if (!check()) doc.on('update', () => check())
})

// agent.mjs runs venueless' own web-app code — its Vuex store
// (webapp/src/store), lib/api.js, lib/WebSocketClient.js and its router's
// route table — under Node against a roomring node, for the Go tests of
// this directory (webapp_test.go).
//
//   node agent.mjs <src>
//
// <src> is venueless' webapp/src as the Go test extracted it from a
// venueless repository at a pinned commit (never committed here). The
// agent bundles it with esbuild, resolving the web app's import aliases
// (store/…, lib/…, router) to those files and replacing only what draws
// the UI: the views and components (empty components), i18n, theme,
// identicons and config (the websocket URL the test gives). Browser
// globals are shimmed minimally: WebSocket is the ws package, localStorage
// a plain object, window the global object, navigator a user agent.
//
// Protocol: one JSON command per line on stdin, one JSON reply per line on
// stdout, {"id": n, "ok": bool, "result": …, "error": "…"}. Every client
// is its own copy of the bundle (its own store and api), imported under
// its name. Commands (all but route name a client):
//
//   {"cmd": "client", "name", "url", "token" | "clientId" [, "inviteToken"]}
//       login + connect, then wait for the authenticated state
//   {"cmd": "state", "name"}                 the store state the tests read
//   {"cmd": "can", "name", "permissions"}    getters.hasPermission of each
//   {"cmd": "changeRoom", "name", "room"}    dispatch changeRoom(room object)
//   {"cmd": "schedule", "name", "room", "schedule_data"}
//                                             dispatch updateRoomSchedule
//   {"cmd": "createRoom", "name", "body"}    dispatch createRoom
//   {"cmd": "close", "name"}                 api.close()
//   {"cmd": "route", "url"}                  where the web app's router and
//       main.js put an invite redirect's URL: route name, roomId, invite
//
// console output of the web-app code goes to stderr.
import { createInterface } from 'node:readline'
import { mkdtempSync, existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'
import * as esbuild from 'esbuild'
import WebSocket from 'ws'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const src = process.argv[2]
if (!src || !existsSync(path.join(src, 'store', 'index.js'))) {
	process.stderr.write(`usage: node agent.mjs <venueless webapp/src>; ${src}/store/index.js is missing\n`)
	process.exit(2)
}

// stdout carries the replies only.
for (const k of ['log', 'info', 'warn', 'error', 'debug']) {
	console[k] = (...args) => process.stderr.write(`[webapp ${k}] ${args.map(a => typeof a === 'string' ? a : safeJSON(a)).join(' ')}\n`)
}
function safeJSON (v) {
	try { return JSON.stringify(v) } catch { return String(v) }
}

// The browser, minimally.
globalThis.window = globalThis
globalThis.WebSocket = WebSocket
globalThis.localStorage = {}
if (!globalThis.navigator) globalThis.navigator = { userAgent: 'node', platform: 'node' }
globalThis.location = { reload () {}, hash: '', pathname: '/' }

// The stand-ins for what draws the UI, by import specifier.
const stubs = {
	config: 'export default { api: { get socket () { return globalThis.__VENUELESS_SOCKET__ } } }',
	i18n: 'export default { t: (k) => k, changeLanguage: async () => {}, resolvedLanguage: "en" }; export const init = async () => {}',
	theme: 'export default {}',
	'components/ChatContent': 'export function contentToPlainText (c) { return String(c) }',
	'lib/identicons': 'export function renderUrl () { return "" }'
}
const component = 'export default { name: "stub", render () { return null } }'

// resolveSource finds an extracted source file of the web app.
function resolveSource (spec) {
	for (const p of [spec + '.js', path.join(spec, 'index.js'), spec]) {
		const f = path.join(src, p)
		if (existsSync(f) && statSync(f).isFile()) return f
	}
	return null
}

const webapp = {
	name: 'venueless-webapp',
	setup (build) {
		build.onResolve({ filter: /.*/ }, (args) => {
			if (args.namespace === 'shim') return undefined // the real package
			const spec = args.path
			if (stubs[spec] !== undefined) return { path: spec, namespace: 'stub' }
			if (spec.startsWith('views/') || spec.startsWith('~/') || spec.startsWith('components/')) {
				return { path: spec, namespace: 'component' }
			}
			if (spec === 'moment?timetraveling') {
				// a second instance of moment, as vite gives the web app
				return { path: require.resolve('moment'), suffix: '?timetraveling' }
			}
			if (spec === 'vue-router') {
				// the route table is the web app's; the history is in memory
				return { path: 'vue-router', namespace: 'shim' }
			}
			if (/^(store|lib|router)(\/|$)/.test(spec)) {
				const f = resolveSource(spec)
				if (f) return { path: f }
			}
			return undefined
		})
		build.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: stubs[args.path], loader: 'js' }))
		build.onLoad({ filter: /.*/, namespace: 'component' }, () => ({ contents: component, loader: 'js' }))
		build.onLoad({ filter: /.*/, namespace: 'shim' }, () => ({
			contents: 'export * from "vue-router"; import { createMemoryHistory } from "vue-router"; export const createWebHistory = (base) => createMemoryHistory(base)',
			resolveDir: here,
			loader: 'js'
		}))
	}
}

const out = path.join(mkdtempSync(path.join(tmpdir(), 'venueless-bundle-')), 'webapp.mjs')
await esbuild.build({
	stdin: {
		contents: 'export { default as store } from "store"; export * as api from "lib/api"; export { default as router } from "router"',
		resolveDir: src,
		loader: 'js'
	},
	bundle: true,
	format: 'esm',
	platform: 'node',
	outfile: out,
	nodePaths: [path.join(here, 'node_modules')],
	plugins: [webapp],
	define: {
		ENV_DEVELOPMENT: 'false',
		BASE_URL: '"/"',
		RELEASE: '"test"',
		'import.meta.env.MODE': '"production"',
		__VUE_OPTIONS_API__: 'true',
		__VUE_PROD_DEVTOOLS__: 'false',
		__VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false'
	},
	logLevel: 'error'
})
const bundle = pathToFileURL(out).href

const clients = new Map() // name -> the bundle's module
let routerModule = null

async function load (name) {
	const m = await import(`${bundle}?client=${encodeURIComponent(name)}`)
	routerModule ??= m
	return m
}

// waitFor polls cond until it holds, or fails after ms.
async function waitFor (what, cond, ms = 10000) {
	const end = Date.now() + ms
	for (;;) {
		const v = cond()
		if (v) return v
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
		await new Promise(resolve => setTimeout(resolve, 10))
	}
}

function snapshot (store) {
	const s = store.state
	return {
		connected: s.connected,
		fatalConnectionError: s.fatalConnectionError?.code ?? null,
		user: s.user ? { id: s.user.id } : null,
		permissions: s.permissions ?? null,
		rooms: (s.rooms ?? []).map(r => ({ id: r.id, name: r.name, users: r.users ?? null, schedule_data: r.schedule_data ?? null })),
		roomViewers: s.roomViewers ? s.roomViewers.map(u => u.id) : null,
		activeRoom: s.activeRoom?.id ?? null
	}
}

function client (name) {
	const m = clients.get(name)
	if (!m) throw new Error(`no client ${name}`)
	return m
}

function room (store, id) {
	const r = store.state.rooms?.find(r => r.id === id)
	if (!r) throw new Error(`room ${id} is not in the store's rooms`)
	return r
}

const commands = {
	async client (c) {
		const m = await load(c.name)
		clients.set(c.name, m)
		globalThis.__VENUELESS_SOCKET__ = c.url
		await m.store.dispatch('login', { token: c.token, clientId: c.clientId, inviteToken: c.inviteToken })
		m.store.dispatch('connect')
		await waitFor('authenticated', () => m.store.state.connected || m.store.state.fatalConnectionError)
		return snapshot(m.store)
	},
	async state (c) { return snapshot(client(c.name).store) },
	async can (c) {
		const { store } = client(c.name)
		return Object.fromEntries(c.permissions.map(p => [p, store.getters.hasPermission(p)]))
	},
	async changeRoom (c) {
		const { store } = client(c.name)
		await store.dispatch('changeRoom', room(store, c.room))
		return snapshot(store)
	},
	async schedule (c) {
		const { store } = client(c.name)
		return await store.dispatch('updateRoomSchedule', { room: room(store, c.room), schedule_data: c.schedule_data })
	},
	async createRoom (c) { return await client(c.name).store.dispatch('createRoom', c.body) },
	async close (c) {
		client(c.name).api.default.close()
		return null
	},
	async route (c) {
		routerModule ??= await load('router')
		const u = new URL(c.url)
		const r = routerModule.router.resolve(u.pathname)
		// as main.js reads it
		const hashParams = new URLSearchParams(u.hash.substring(1))
		return {
			name: r.name ?? null,
			roomId: r.name === 'standalone:anonymous' ? r.params.roomId : null,
			invite: hashParams.get('invite')
		}
	}
}

// Commands run one after another, in the order they came.
let queue = Promise.resolve()
const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => { queue = queue.then(() => serve(line)) })
rl.on('close', () => { queue.then(() => process.exit(0)) })

async function serve (line) {
	let c
	try {
		c = JSON.parse(line)
	} catch (e) {
		process.stdout.write(JSON.stringify({ id: null, ok: false, error: `bad command: ${e.message}` }) + '\n')
		return
	}
	let reply
	try {
		const fn = commands[c.cmd]
		if (!fn) throw new Error(`unknown command ${c.cmd}`)
		reply = { id: c.id, ok: true, result: (await fn(c)) ?? null }
	} catch (e) {
		reply = { id: c.id, ok: false, error: e?.apiError?.code ?? e?.message ?? String(e) }
	}
	process.stdout.write(JSON.stringify(reply) + '\n')
}
process.stdout.write(JSON.stringify({ id: 0, ok: true, result: 'ready' }) + '\n')

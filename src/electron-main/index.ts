/**
 * The Electron main process (built to out/main/index.js): one sandboxed window showing the
 * renderer, and the contract carried over IPC to the same service the web host and CLI use.
 * Hardening: context isolation, sandbox, no Node in the page, a strict CSP (response header
 * and the page's meta tag), no navigation away from the app, no new windows, no permissions,
 * and IPC accepted only from our window's main frame showing our page.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  session,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ContractError } from '../common/contract';
import { CONTENT_SECURITY_POLICY, DEV_CONTENT_SECURITY_POLICY } from '../node/web/contentSecurityPolicy';
import { resolveDbPath } from '../node/paths';
import { createService, type Service } from '../node/service/service';

/** out/main: this file is the `index` entry, so its code stays in out/main/index.js. */
const here = import.meta.dirname;
const preloadPath = path.join(here, '..', 'preload', 'index.cjs');
const rendererFile = path.join(here, '..', 'renderer', 'index.html');
const workerPath = path.join(here, 'worker.js');
/** Set by `electron-vite dev`; ignored in a packaged app. */
const devServerUrl = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;
const appUrl = devServerUrl ?? pathToFileURL(rendererFile).href;

// Tests (and users running two profiles) may move the profile: ATTN_USER_DATA_DIR.
const userDataDir = process.env['ATTN_USER_DATA_DIR'];
if (userDataDir) app.setPath('userData', path.resolve(userDataDir));

app.enableSandbox();

let mainWindow: BrowserWindow | null = null;
let service: Service | null = null;

/** Whether `url` is our page (same file, or the dev server's origin); query and hash ignored. */
function isAppUrl(url: string): boolean {
  let target: URL;
  let expected: URL;
  try {
    target = new URL(url);
    expected = new URL(appUrl);
  } catch {
    return false;
  }
  if (devServerUrl) return target.origin === expected.origin;
  return target.protocol === 'file:' && target.host === expected.host && target.pathname === expected.pathname;
}

function refused(code: ContractError['code'], message: string): { ok: false; error: ContractError } {
  return { ok: false, error: { code, message } };
}

/** IPC is accepted only from our window's main frame while it shows our page. */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  const win = mainWindow;
  if (!win || win.isDestroyed() || event.sender !== win.webContents) return false;
  const frame = event.senderFrame;
  const main = win.webContents.mainFrame;
  return frame !== null && frame.parent === null && frame.frameTreeNodeId === main.frameTreeNodeId && isAppUrl(frame.url);
}

function hardenSession(): void {
  const ses = session.defaultSession;
  const csp = devServerUrl ? DEV_CONTENT_SECURITY_POLICY : CONTENT_SECURITY_POLICY;
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'content-security-policy') delete headers[name];
    }
    headers['Content-Security-Policy'] = [csp];
    callback({ responseHeaders: headers });
  });
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
}

function hardenContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 920,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Attention Workbench',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void (devServerUrl ? win.loadURL(devServerUrl) : win.loadFile(rendererFile));
  return win;
}

/**
 * models.importLocal's picker: a native dialog owned by our window; the chosen path goes straight
 * to the model library (the page never sends a path).
 */
async function pickLocalModel(pick: 'folder' | 'file'): Promise<string | null> {
  const options: Electron.OpenDialogOptions =
    pick === 'folder'
      ? { title: 'Import a model folder', properties: ['openDirectory'] }
      : { title: 'Import an ONNX model', properties: ['openFile'], filters: [{ name: 'ONNX models', extensions: ['onnx'] }] };
  const r = mainWindow !== null ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return r.canceled ? null : (r.filePaths[0] ?? null);
}

async function start(): Promise<void> {
  hardenSession();
  const sqliteBinding = process.env['ATTN_SQLITE_BINDING'];
  service = await createService({
    dbPath: resolveDbPath({ cliPath: undefined }),
    host: 'electron',
    workerPath,
    ...(sqliteBinding ? { sqliteNativeBinding: sqliteBinding } : {}),
    log: (message) => console.log(message),
    pickLocalModel,
  });
  const handler = service;

  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, method: unknown, input: unknown) => {
    if (!trustedSender(event)) return refused('unauthorized', 'IPC from an untrusted frame was refused.');
    if (typeof method !== 'string') return refused('unknown-method', 'The method name must be a string.');
    return handler.dispatch(method, input);
  });

  handler.subscribe((event, payload) => {
    const win = mainWindow;
    if (win && !win.isDestroyed() && isAppUrl(win.webContents.getURL())) {
      win.webContents.send(IPC_EVENT_CHANNEL, event, payload);
    }
  });

  mainWindow = createWindow();
}

if (!app.requestSingleInstanceLock()) {
  // Another instance owns this profile and its store: hand over to it.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  app.on('web-contents-created', (_event, contents) => hardenContents(contents));

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (service && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });

  // Close the service (workers, store) before the process goes away.
  let closed = false;
  app.on('will-quit', (event) => {
    if (closed || !service) return;
    event.preventDefault();
    const closing = service;
    service = null;
    closing
      .close()
      .catch((e: unknown) => console.error('Attention Workbench: closing the service failed:', e))
      .finally(() => {
        closed = true;
        app.quit();
      });
  });

  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      console.error('Attention Workbench failed to start:', e);
      dialog.showErrorBox('Attention Workbench failed to start', message);
      app.exit(1);
    });
}

/** SQL files imported as text through Vite's `?raw` suffix (vitest, electron-vite). */
declare module '*.sql?raw' {
  const sql: string;
  export default sql;
}

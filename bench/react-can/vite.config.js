import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// The `<Can>` bench page of the React peer (../shared/peers/react: the same
// package.json and lock file, and its ability.js), can-bench.html, which
// `cargo xtask bench` builds into target/bench. The peer's app itself is
// not copied: the page needs only React, CASL and the ability.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: '../../target/bench/react-can',
    emptyOutDir: true,
    rollupOptions: {
      input: { 'can-bench': 'can-bench.html' },
    },
  },
})

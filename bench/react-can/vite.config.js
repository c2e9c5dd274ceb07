import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// The React peer (a copy of ../shared/peers/react) plus the `<Can>` bench
// page, can-bench.html, which `cargo xtask bench` builds into target/bench.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: '../../target/bench/react-can',
    emptyOutDir: true,
    rollupOptions: {
      input: { main: 'index.html', 'can-bench': 'can-bench.html' },
    },
  },
})

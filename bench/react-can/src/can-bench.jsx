// `<Can>` at scale with CASL: N `<Can I="read" a="project-list">` and N
// `<Can not ...>` elements from @casl/react, and one function that flips the
// permission by updating the ability, as the app does when a new token
// arrives. `cargo xtask bench` times each flip beside our page (bench/can);
// the contract is the same for both:
// - `?n=<N>` sets N (5,000 by default);
// - while the ability grants read on project-list, N `.can-yes` elements
//   show, otherwise N `.can-no`; it starts granted;
// - `window.canBench.toggle()` flips the grant and returns whether it holds now.
// With `?via=context` the flip provides a new ability through the context
// instead, as the peer app does when its token changes (App.jsx). With
// `?layout=rows` each `<Can>` is in an element of its own (a row), rather
// than all 2N side by side.
import { memo, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { AbilityProvider, Can } from '@casl/react'
import { defineAbilityFor } from './ability.js'

const params = new URLSearchParams(window.location.search)
const n = Number(params.get('n')) || 5000
const viaContext = params.get('via') === 'context'
const rows = params.get('layout') === 'rows'
const rulesFor = (granted) => defineAbilityFor(granted ? ['read:project-list'] : []).rules
const ability = defineAbilityFor(['read:project-list'])

// Memoised, so that a new ability re-renders the `<Can>`s through the
// context, not this list.
const Bench = memo(function Bench() {
  const elements = []
  for (let i = 0; i < n; i++) {
    const key = `yes-${i}`
    const can = <Can key={key} I="read" a="project-list"><span className="can-yes" /></Can>
    elements.push(rows ? <div key={key} className="row">{can}</div> : can)
  }
  for (let i = 0; i < n; i++) {
    const key = `no-${i}`
    const can = <Can key={key} not I="read" a="project-list"><span className="can-no" /></Can>
    elements.push(rows ? <div key={key} className="row">{can}</div> : can)
  }
  return <main id="can-bench">{elements}</main>
})

let provide = null

function Root() {
  const [current, setCurrent] = useState(ability)
  provide = setCurrent
  return (
    <AbilityProvider value={current}>
      <Bench />
    </AbilityProvider>
  )
}

createRoot(document.getElementById('root')).render(<Root />)

let granted = true
window.canBench = {
  n,
  toggle() {
    granted = !granted
    if (viaContext) provide(defineAbilityFor(granted ? ['read:project-list'] : []))
    else ability.update(rulesFor(granted))
    return granted
  },
}

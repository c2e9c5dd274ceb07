//! What WebDriver cannot do and the Chrome DevTools Protocol can, through chromedriver's CDP endpoint: scripts
//! that run in every new document of a tab, the browser's whole cookie jar, and a look at everything a page
//! has put in its origin's storage. Plus the page's clock, which a test moves forward to stand for time that
//! passed while the machine slept.

use super::Browser;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// One string the browser has stored: where, under which name, and the stored text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// `localStorage`, `sessionStorage`, `indexedDB`, `cacheStorage`, `cookie` or `history.state`.
    pub area: String,
    /// The key, database/store/record path, cache name or cookie name.
    pub key: String,
    /// The stored value as text (JSON for structured values).
    pub value: String,
}

/// Reads every storage area of the page's origin: both Web Storage areas, every IndexedDB database with every
/// record of every object store, the Cache Storage names, and `history.state`. It returns a promise, which
/// WebDriver's "execute script" waits for.
const STORAGE_SCRIPT: &str = r#"
return (async () => {
const items = [];
const text = (value) => (typeof value === 'string' ? value : JSON.stringify(value));
for (const [area, storage] of [['localStorage', window.localStorage], ['sessionStorage', window.sessionStorage]]) {
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    items.push([area, key, storage.getItem(key)]);
  }
}
const request = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
for (const info of await indexedDB.databases()) {
  items.push(['indexedDB', info.name, '']);
  const db = await request(indexedDB.open(info.name));
  for (const store of Array.from(db.objectStoreNames)) {
    const tx = db.transaction(store, 'readonly');
    const [keys, values] = await Promise.all([request(tx.objectStore(store).getAllKeys()), request(tx.objectStore(store).getAll())]);
    keys.forEach((key, i) => items.push(['indexedDB', `${info.name}/${store}/${text(key)}`, text(values[i])]));
  }
  db.close();
}
if (window.caches) {
  for (const name of await caches.keys()) items.push(['cacheStorage', name, '']);
}
if (history.state !== null && history.state !== undefined) items.push(['history.state', '', text(history.state)]);
return items;
})();
"#;

impl Browser {
    /// Runs the CDP command `method` with `params` on the current tab (chromedriver's `goog/cdp/execute`) and
    /// returns its result.
    pub async fn cdp(&self, method: &str, params: Value) -> Result<Value> {
        let response = self
            .driver_command("goog/cdp/execute", json!({ "cmd": method, "params": params }))
            .await
            .with_context(|| format!("CDP {method}"))?;
        let status = response.status();
        let answer: Value = response.json().await.with_context(|| format!("reading the answer to CDP {method}"))?;
        if !status.is_success() {
            bail!("CDP {method} failed ({status}): {answer}");
        }
        Ok(answer["value"].clone())
    }

    /// Has `source` run in every document the current tab loads from now on, before the page's own scripts
    /// (CDP `Page.addScriptToEvaluateOnNewDocument`). Nothing runs in the document already on screen.
    pub async fn add_script_for_new_documents(&self, source: &str) -> Result<()> {
        self.cdp("Page.addScriptToEvaluateOnNewDocument", json!({ "source": source })).await.map(drop)
    }

    /// Every cookie the browser holds, for every site (the provider's too), as `StoredItem`s.
    pub async fn all_cookies(&self) -> Result<Vec<StoredItem>> {
        let answer = self.cdp("Storage.getCookies", json!({})).await?;
        let cookies = answer["cookies"].as_array().with_context(|| format!("Storage.getCookies answered {answer}"))?;
        Ok(cookies
            .iter()
            .map(|cookie| StoredItem {
                area: "cookie".to_string(),
                key: format!(
                    "{}{} {}",
                    cookie["domain"].as_str().unwrap_or_default(),
                    cookie["path"].as_str().unwrap_or_default(),
                    cookie["name"].as_str().unwrap_or_default()
                ),
                value: cookie["value"].as_str().unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// Deletes every cookie of every site, as clearing the browser's cookies does (the provider's session goes
    /// with them).
    pub async fn clear_all_cookies(&self) -> Result<()> {
        self.cdp("Storage.clearCookies", json!({})).await.map(drop)
    }

    /// Everything the current page's origin has stored (see [`StoredItem`]), and every cookie of the browser.
    pub async fn stored_items(&self) -> Result<Vec<StoredItem>> {
        let value = self.execute(STORAGE_SCRIPT, Vec::new()).await.context("reading the origin's storage")?;
        let rows = value.as_array().with_context(|| format!("the storage script returned {value}"))?;
        let mut items: Vec<StoredItem> = rows
            .iter()
            .map(|row| StoredItem {
                area: row[0].as_str().unwrap_or_default().to_string(),
                key: row[1].as_str().unwrap_or_default().to_string(),
                value: row[2].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        items.extend(self.all_cookies().await?);
        Ok(items)
    }

    /// Moves the current document's clock (`Date.now()`, which the login module reads for token times) forward
    /// by `seconds`, as if the machine had slept that long: timers already set are not moved, so none of them
    /// fires early. Returns the total offset in seconds. A new document starts with the real clock.
    pub async fn advance_page_clock(&self, seconds: u64) -> Result<f64> {
        let script = "if (!window.__e2eClock) { \
                        const real = Date.now.bind(Date); \
                        window.__e2eClock = { offset: 0 }; \
                        Date.now = () => real() + window.__e2eClock.offset; \
                      } \
                      window.__e2eClock.offset += arguments[0] * 1000; \
                      return window.__e2eClock.offset / 1000;";
        let value = self.execute(script, vec![json!(seconds)]).await?;
        value.as_f64().with_context(|| format!("the clock script returned {value}"))
    }
}

// Opens driftgate reports from disk in headless Chromium and checks what a reviewer
// relies on: the cases render, filters, swipe and blink work, keyboard navigation
// moves between cases, nothing is fetched from outside, and hostile strings are
// shown as text without running. Usage: node check.mjs DEMO_HTML HOSTILE_HTML SCREENSHOT
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [demoPath, hostilePath, shotPath] = process.argv.slice(2);
if (!demoPath || !hostilePath || !shotPath) {
  console.error('usage: node check.mjs DEMO_HTML HOSTILE_HTML SCREENSHOT');
  process.exit(2);
}

const failures = [];
function check(ok, what) {
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    console.log(`  FAIL ${what}`);
    failures.push(what);
  }
}

const profile = mkdtempSync(join(tmpdir(), 'driftgate-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

// Every request the pages make, and any that is not a local file or inline data.
// The CSP probe below asks for outside URLs on purpose; those are kept apart.
const PROBES = ['https://example.com/pixel.png', 'http://127.0.0.1:9/pixel.png'];
const requests = [];
const outside = [];
context.on('request', (r) => { if (!PROBES.includes(r.url())) requests.push(r.url()); });
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (PROBES.includes(url)) {
    route.abort();
  } else if (url.startsWith('file:') || url.startsWith('data:')) {
    route.continue();
  } else {
    outside.push(url);
    route.abort();
  }
});
// Recorded from the first script on, so violations during load are caught too.
await context.addInitScript(() => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
});

async function open(path) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(pathToFileURL(resolve(path)).href, { waitUntil: 'load' });
  return { page, errors };
}

const visible = (page) => page.$$eval('.case', (cs) => cs.filter((c) => !c.classList.contains('hidden')).map((c) => c.querySelector('h2').textContent));

async function loadAllImages(page) {
  // Lazy images outside the viewport would not load on their own; a reviewer scrolls.
  await page.$$eval('details.body', (ds) => ds.forEach((d) => { d.open = true; }));
  await page.$$eval('img[loading=lazy]', (is) => is.forEach((i) => { i.loading = 'eager'; }));
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 20000 });
  return page.$$eval('img', (is) => is.filter((i) => i.naturalWidth === 0).map((i) => i.getAttribute('src')));
}

try {
  console.log(`demo report: ${demoPath}`);
  {
    const { page, errors } = await open(demoPath);
    const ids = await page.$$eval('.case h2', (hs) => hs.map((h) => h.textContent));
    check(ids.length === 6, `six demo cases render (got ${ids.length}: ${ids.join(', ')})`);
    const verdicts = await page.$$eval('.case', (cs) => cs.map((c) => c.dataset.verdict));
    check(verdicts[0] === 'drift' && verdicts[1] === 'drift' && verdicts.slice(2).every((v) => v === 'pass'),
      `cases sorted by severity (${verdicts.join(', ')})`);
    check(ids.includes('gold-watch') && ids.includes('teal-headphones'), 'the drifted cases are there');
    const trends = await page.$$eval('.case', (cs) => cs.filter((c) => c.querySelector('.trend svg polyline')).length);
    check(trends === 6, `every case draws its trend from the history (${trends} of 6)`);
    const banner = await page.textContent('.banner');
    check(/Drift found/.test(banner) && /2 cases of 6|2 of 6/.test(banner.replace(/\s+/g, ' ')),
      `the banner says drift in words: "${banner.trim().slice(0, 80)}..."`);

    // Filters.
    await page.click('button[data-verdict=drift]');
    check((await visible(page)).length === 2, 'verdict filter "drift" shows the two drifted cases');
    await page.click('button[data-verdict=pass]');
    check((await visible(page)).length === 4, 'verdict filter "pass" shows four cases');
    await page.click('button[data-verdict=all]');
    await page.selectOption('#tag', 'luxury');
    check(JSON.stringify(await visible(page)) === '["gold-watch"]', 'tag filter "luxury" shows gold-watch only');
    await page.selectOption('#tag', '');
    await page.fill('#search', 'sailboat');
    check(JSON.stringify(await visible(page)) === '["ocean-sunset"]', 'searching the prompt finds ocean-sunset');
    await page.fill('#search', 'no-such-case');
    check(await page.isVisible('#none'), 'an empty result says so');
    await page.fill('#search', '');
    await page.selectOption('#suite', 'demo');
    check((await visible(page)).length === 6, 'suite filter keeps every demo case');

    // Swipe and blink on the first drifted case.
    const cmp = page.locator('.case').first().locator('.cmp');
    await cmp.locator('.slider').fill('20');
    const x = await cmp.locator('.stage').evaluate((s) => s.style.getPropertyValue('--x'));
    const clip = await cmp.locator('img.b').evaluate((i) => getComputedStyle(i).clipPath);
    check(x === '20%' && /80%/.test(clip), `the swipe slider moves the split (--x ${x}, clip ${clip})`);
    await cmp.locator('button[data-mode=blink]').click();
    const first = await cmp.evaluate((w) => w.classList.contains('show-c'));
    // Polled rather than timed, so a slow machine cannot skip past a toggle.
    const flipped = await cmp.evaluate((w, start) => new Promise((done) => {
      const t0 = Date.now();
      (function poll() {
        if (w.classList.contains('show-c') !== start) { done(true); return; }
        if (Date.now() - t0 > 5000) { done(false); return; }
        setTimeout(poll, 50);
      })();
    }), first);
    check(first === false && flipped, 'blink alternates baseline and candidate');
    await cmp.locator('button[data-mode=swipe]').click();

    // Keyboard navigation.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('j');
    const a = await page.evaluate(() => document.activeElement.querySelector('h2')?.textContent);
    await page.keyboard.press('j');
    const b = await page.evaluate(() => document.activeElement.querySelector('h2')?.textContent);
    check(a === ids[0] && b === ids[1], `j moves from case to case (${a} → ${b})`);

    // Images from disk load under the page's CSP.
    const broken = await loadAllImages(page);
    const nImages = await page.$$eval('img', (is) => is.length);
    check(nImages > 0 && broken.length === 0, `all ${nImages} images load from file:// (broken: ${broken.slice(0, 3).join(', ')})`);
    const violations = await page.evaluate(() => window.__violations);
    check(violations.length === 0, `no CSP violation while loading (${violations.join('; ')})`);

    check(errors.length === 0, `no script errors (${errors.join('; ')})`);

    // The CSP itself forbids outside requests: try some from the page.
    await page.evaluate((urls) => {
      urls.forEach((u) => {
        const i = document.createElement('img');
        i.src = u;
        i.className = 'probe';
        document.body.appendChild(i);
      });
    }, PROBES);
    await page.waitForTimeout(300);
    const after = await page.evaluate(() => window.__violations);
    check(after.some((v) => v.includes('example.com')) && after.some((v) => v.includes('127.0.0.1')),
      `the CSP blocks http(s) images (${after.join('; ')})`);

    // The screenshot a reviewer sees first, and the whole page below it.
    await page.evaluate(() => { document.querySelectorAll('img.probe').forEach((i) => i.remove()); });
    await page.$$eval('details.body', (ds) => ds.forEach((d) => { d.open = d.closest('.case').dataset.verdict !== 'pass'; }));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: shotPath, fullPage: true });
    // The first screen alone, as a reviewer sees it on opening the page.
    await page.screenshot({ path: shotPath.replace(/\.png$/, '-top.png') });
    console.log(`  screenshot: ${shotPath}`);
    await page.close();
  }

  console.log(`hostile report: ${hostilePath}`);
  {
    const { page, errors } = await open(hostilePath);
    await loadAllImages(page);
    await page.hover('.tag');
    await page.waitForTimeout(200);
    const pwned = await page.evaluate(() => window.__pwned);
    check(pwned === undefined, `no payload ran (window.__pwned = ${pwned})`);
    const scripts = await page.$$eval('script', (s) => s.length);
    check(scripts === 1, `only the page's own script element exists (${scripts})`);
    const handlers = await page.$$eval('*', (els) => els.filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length);
    check(handlers === 0, `no element carries an inline event handler (${handlers})`);
    const text = await page.textContent('body');
    check(text.includes('<script>window.__pwned="prompt"</script>'), 'the prompt payload is shown as text');
    check(text.includes('<img src=x onerror=window.__pwned=2>'), 'the tag payload is shown as text');
    check(text.includes('"><svg onload=window.__pwned=5>'), 'the parameter payload is shown as text');
    const ids = await page.$$eval('.case h2', (hs) => hs.map((h) => h.textContent));
    check(ids.includes('script-prompt') && ids.includes('plain-case'), `hostile cases render (${ids.join(', ')})`);
    await page.fill('#search', 'window.__pwned');
    check(JSON.stringify(await visible(page)) === '["script-prompt"]', 'search matches text inside the payload');
    check(errors.length === 0, `no script errors (${errors.join('; ')})`);
    await page.close();
  }

  const local = requests.every((u) => u.startsWith('file:') || u.startsWith('data:'));
  check(outside.length === 0 && local, `no request left the pages (${outside.concat(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).slice(0, 5).join(', ')})`);
} catch (e) {
  failures.push(`unexpected error: ${e && e.stack ? e.stack : e}`);
  console.error(e);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

if (failures.length) {
  console.error(`\n${failures.length} browser check(s) failed:\n - ${failures.join('\n - ')}`);
  process.exit(1);
}
console.log('all browser checks passed');

// The reelab try-it page: search titles, rate a few, ask the API for cold-start recommendations.
// Plain DOM code (no framework, no build step); every server string goes through textContent.
'use strict';

const state = { ratings: new Map(), scale: [0.5, 5] };
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({ message: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

function message(text) {
  $('message').textContent = text || '';
}

function ratingSteps() {
  const [lo, hi] = state.scale;
  const steps = [];
  for (let r = Math.max(1, Math.ceil(lo)); r <= hi; r++) steps.push(r);
  return steps;
}

function stars(movie) {
  const box = el('span', 'stars');
  for (const r of ratingSteps()) {
    const b = el('button', 'rate-btn', String(r));
    b.type = 'button';
    b.dataset.rating = String(r);
    b.title = `rate ${r}`;
    if (state.ratings.get(movie.movieId)?.rating === r) b.classList.add('on');
    b.addEventListener('click', () => rate(movie, r));
    box.append(b);
  }
  return box;
}

function movieLabel(m) {
  return m.genres.length ? `${m.title} — ${m.genres.join(', ')}` : m.title;
}

function rate(movie, rating) {
  state.ratings.set(movie.movieId, { movie, rating });
  renderRated();
  renderResults(lastResults);
}

function renderRated() {
  const list = $('rated');
  list.replaceChildren();
  for (const { movie, rating } of state.ratings.values()) {
    const li = el('li', 'rated-item');
    li.append(el('span', '', `${movie.title}: ${rating}`));
    const remove = el('button', 'remove', '×');
    remove.type = 'button';
    remove.title = 'remove';
    remove.addEventListener('click', () => {
      state.ratings.delete(movie.movieId);
      renderRated();
    });
    li.append(remove);
    list.append(li);
  }
  const n = state.ratings.size;
  $('rated-count').textContent = n ? `(${n})` : '(none yet)';
  $('recommend').disabled = n === 0;
}

let lastResults = [];
function renderResults(items) {
  lastResults = items;
  const list = $('results');
  list.replaceChildren();
  for (const m of items) {
    const li = el('li', 'result');
    li.dataset.movieId = String(m.movieId);
    li.append(el('span', '', movieLabel(m)), stars(m));
    list.append(li);
  }
}

async function search(event) {
  event.preventDefault();
  const q = $('search').value.trim();
  if (!q) return;
  try {
    message('');
    const { items } = await api(`/movies/search?q=${encodeURIComponent(q)}&limit=10`);
    renderResults(items);
    if (items.length === 0) message(`no title matches "${q}"`);
  } catch (err) {
    message(err.message);
  }
}

// A colour per genre so the title cards stand in for posters.
function hue(text) {
  let h = 0;
  for (const c of text) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
}

function card(item) {
  const c = el('article', 'card');
  c.dataset.movieId = String(item.movieId);
  const poster = el('div', 'poster', item.title.replace(/^(the|a|an)\s+/i, '').charAt(0).toUpperCase());
  poster.style.background = `hsl(${hue(item.genres[0] || item.title)}, 45%, 42%)`;
  c.append(poster, el('div', 'title', item.title));
  const genres = el('div', 'genres');
  for (const g of item.genres) genres.append(el('span', 'genre', g));
  c.append(genres, el('div', 'score', `score ${item.score.toFixed(2)}`));
  if (item.because && item.because.length) {
    c.append(el('div', 'because', `Because you liked ${item.because.map((b) => b.title).join(' and ')}`));
  }
  c.addEventListener('click', () => showSimilar(item));
  return c;
}

async function recommend() {
  const ratings = [...state.ratings.values()].map(({ movie, rating }) => ({ movieId: movie.movieId, rating }));
  try {
    message('');
    $('recommend').disabled = true;
    const result = await api('/recommendations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ratings, k: 12, explain: true }),
    });
    $('method').textContent = `${result.model}, ${result.method}, from ${result.used} rating(s)`;
    $('cards').replaceChildren(...result.items.map(card));
  } catch (err) {
    message(err.message);
  } finally {
    $('recommend').disabled = state.ratings.size === 0;
  }
}

async function showSimilar(item) {
  try {
    const result = await api(`/movies/${item.movieId}/similar?k=6`);
    $('similar-title').textContent = `${item.title} (${result.source})`;
    $('similar-list').replaceChildren(...result.items.map((m) => el('li', '', movieLabel(m))));
    $('similar').hidden = false;
  } catch (err) {
    message(err.message);
  }
}

async function init() {
  $('search-form').addEventListener('submit', search);
  $('recommend').addEventListener('click', recommend);
  try {
    const h = await api('/health');
    state.scale = h.ratingScale || state.scale;
    $('model-info').textContent = `model ${h.model} on ${h.dataset}: ${h.users} users, ${h.movies} movies`;
  } catch (err) {
    $('model-info').textContent = `the API does not answer: ${err.message}`;
  }
}

init();

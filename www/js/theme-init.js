// Runs before first paint (classic script in <head>) so the page never flashes the wrong theme.
(function () {
  var saved = null;
  try {
    saved = localStorage.getItem('smol.theme');
  } catch (e) {
    saved = null;
  }
  var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = saved || (dark ? 'dark' : 'light');
})();

// The static site's title search: substring over titles and names (window.ZH_TITLES, from titles.js),
// after NFKC and case folding, as the server's search does. Works from disk: no fetch, no outside request.
(function () {
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").normalize("NFKC").toLowerCase().trim();
  var input = document.getElementById("q");
  if (input) { input.value = params.get("q") || ""; }
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  if (!query || !list || !window.ZH_TITLES) { return; }
  var found = window.ZH_TITLES.filter(function (row) { return row[0].normalize("NFKC").toLowerCase().indexOf(query) >= 0; });
  status.textContent = found.length + " titles and names contain “" + (params.get("q") || "") + "”" +
    (found.length > 200 ? "; the first 200 are shown." : ".");
  found.slice(0, 200).forEach(function (row) {
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = row[1];
    link.textContent = row[0];
    link.lang = "zh";
    item.appendChild(link);
    list.appendChild(item);
  });
}());

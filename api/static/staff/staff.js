// Staff pages' small enhancements (the pages work without it): the registration desk's
// "add an item" button and the current channel's receipt-date rule highlighted.
(function () {
  "use strict";
  var add = document.getElementById("add-item");
  var rows = document.getElementById("item-rows");
  if (add && rows) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var n = rows.querySelectorAll("textarea").length + 1;
      var last = rows.lastElementChild;
      var row = last.cloneNode(true);
      var label = row.querySelector("label");
      var area = row.querySelector("textarea");
      area.id = "f-items-" + n;
      area.value = "";
      area.removeAttribute("required");
      area.removeAttribute("aria-required");
      label.htmlFor = area.id;
      label.textContent = "第 " + n + " 项：所需政府信息的名称、文号或者便于查询的其他特征性描述";
      rows.appendChild(row);
      area.focus();
    });
  }
  var channel = document.getElementById("f-channel");
  if (channel) {
    var mark = function () {
      document.querySelectorAll("#receipt-rules li[data-channel]").forEach(function (li) {
        li.classList.toggle("current", li.getAttribute("data-channel") === channel.value);
      });
    };
    channel.addEventListener("change", mark);
    mark();
  }
})();

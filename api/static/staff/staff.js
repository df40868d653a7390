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
  // Issue 22: a released file's upload shows its progress (large scans take a while); without this
  // script the form posts as usual.
  var upload = document.getElementById("form-release-upload");
  if (upload && window.FormData && window.XMLHttpRequest) {
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      var bar = document.getElementById("release-upload-progress");
      var status = document.getElementById("release-upload-status");
      bar.hidden = false;
      upload.querySelector("button[type=submit]").disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.max = e.total;
          bar.value = e.loaded;
          status.textContent = "已上传 " + Math.round(100 * e.loaded / e.total) + "%";
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.responseURL && xhr.responseURL.indexOf("uploaded=") !== -1) {
          window.location.assign(xhr.responseURL);
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener("error", function () {
        status.textContent = "上传中断，请检查网络后重新上传。";
        upload.querySelector("button[type=submit]").disabled = false;
      });
      status.textContent = "正在上传…";
      xhr.send(new FormData(upload));
    });
  }
})();

// 社保视联办 (video help): WebRTC between the citizen and the agent, signalled over the
// platform's own WebSocket (/ws/hrss/help/{code}); media go peer to peer. The citizen's side
// sends the page's form as it is filled and applies the values the agent proposes once the
// citizen accepts them; the agent's side (the call page) shows the form and proposes values.
(function () {
  "use strict";

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  function socketFor(code) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return new WebSocket(scheme + location.host + "/ws/hrss/help/" + encodeURIComponent(code));
  }

  // One peer connection and its socket; `onMessage` gets what is not WebRTC signalling.
  function Session(code, local, remote, onMessage, onState) {
    var self = this;
    var pending = [];
    self.ws = socketFor(code);
    self.pc = new RTCPeerConnection({ iceServers: [] });
    self.send = function (kind, payload) {
      if (self.ws.readyState === WebSocket.OPEN) {
        self.ws.send(JSON.stringify({ kind: kind, payload: payload || {} }));
      }
    };
    self.pc.onicecandidate = function (e) {
      if (e.candidate) self.send("ice", e.candidate.toJSON());
    };
    self.pc.ontrack = function (e) {
      if (remote.srcObject !== e.streams[0]) remote.srcObject = e.streams[0];
      onState("connected");
    };
    self.ready = navigator.mediaDevices
      .getUserMedia({ video: true, audio: true })
      .then(function (stream) {
        local.srcObject = stream;
        stream.getTracks().forEach(function (t) {
          self.pc.addTrack(t, stream);
        });
      });
    function addIce(candidate) {
      if (self.pc.remoteDescription) {
        self.pc.addIceCandidate(candidate).catch(function () {});
      } else {
        pending.push(candidate);
      }
    }
    function flushIce() {
      pending.splice(0).forEach(addIce);
    }
    self.ws.onmessage = function (event) {
      var message = JSON.parse(event.data);
      var kind = message.kind;
      var payload = message.payload || {};
      if (kind === "offer") {
        self.ready
          .then(function () {
            return self.pc.setRemoteDescription(payload);
          })
          .then(function () {
            flushIce();
            return self.pc.createAnswer();
          })
          .then(function (answer) {
            return self.pc.setLocalDescription(answer);
          })
          .then(function () {
            self.send("answer", { type: "answer", sdp: self.pc.localDescription.sdp });
          });
      } else if (kind === "answer") {
        self.pc.setRemoteDescription(payload).then(flushIce);
      } else if (kind === "ice") {
        addIce(payload);
      } else if (kind === "bye") {
        onState("ended");
        self.close();
      } else {
        onMessage(kind, payload);
      }
    };
    self.call = function () {
      return self.ready
        .then(function () {
          return self.pc.createOffer();
        })
        .then(function (offer) {
          return self.pc.setLocalDescription(offer);
        })
        .then(function () {
          self.send("offer", { type: "offer", sdp: self.pc.localDescription.sdp });
        });
    };
    self.close = function () {
      try {
        self.pc.getSenders().forEach(function (s) {
          if (s.track) s.track.stop();
        });
        self.pc.close();
        self.ws.close();
      } catch (e) {}
    };
  }

  // --- the citizen's dock ------------------------------------------------------------------
  function citizen() {
    var button = document.getElementById("help-button");
    if (!button) return;
    var panel = document.getElementById("help-panel");
    var status = document.getElementById("help-status");
    var list = document.getElementById("help-proposals");
    var form = document.querySelector("main form.form, main form");
    var session = null;
    var code = null;

    function fields() {
      if (!form) return [];
      return Array.prototype.filter
        .call(form.elements, function (el) {
          return el.name && el.name !== "csrf_token" && el.type !== "password" && el.type !== "hidden";
        })
        .map(function (el) {
          var label = el.closest("label");
          var text = label ? label.childNodes[0].textContent.trim() : el.name;
          return { name: el.name, label: text, value: el.value };
        });
    }
    var timer = null;
    function sendForm() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (session) session.send("form", { page: location.pathname, fields: fields() });
      }, 150);
    }
    function propose(payload) {
      var item = document.createElement("li");
      item.setAttribute("data-field", payload.name);
      var text = document.createElement("span");
      text.textContent = "工作人员建议“" + (payload.label || payload.name) + "”填写：" + payload.value + " ";
      var yes = document.createElement("button");
      yes.type = "button";
      yes.className = "button small";
      yes.textContent = "采纳";
      yes.addEventListener("click", function () {
        var el = form && form.elements.namedItem(payload.name);
        if (el && "value" in el) {
          el.value = payload.value;
          el.dispatchEvent(new Event("input", { bubbles: true }));
          el.dispatchEvent(new Event("change", { bubbles: true }));
        }
        session.send("accept", { name: payload.name, value: payload.value });
        item.textContent = "已采纳：“" + (payload.label || payload.name) + "” " + payload.value;
      });
      item.appendChild(text);
      item.appendChild(yes);
      list.appendChild(item);
    }
    function start(made, waiting, connected) {
      code = made.code;
      panel.hidden = false;
      panel.setAttribute("data-code", code);
      status.textContent = waiting;
      session = new Session(
        code,
        document.getElementById("help-local"),
        document.getElementById("help-remote"),
        function (kind, payload) {
          if (kind === "propose") propose(payload);
          if (kind === "hello") sendForm();
        },
        function (state) {
          status.textContent = state === "connected" ? connected : "已结束";
          panel.setAttribute("data-state", state);
        }
      );
      session.ws.onopen = sendForm;
      if (form) {
        form.addEventListener("input", sendForm);
        form.addEventListener("change", sendForm);
      }
    }
    button.addEventListener("click", function () {
      if (session) return;
      fetch("/api/v1/hrss/help", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ page: location.pathname, topic: document.title.slice(0, 120) }),
        credentials: "same-origin",
      })
        .then(function (r) {
          if (!r.ok) throw new Error("refused");
          return r.json();
        })
        .then(function (made) {
          start(made, "已发出请求（" + made.code + "），等待工作人员接听……", "已接通，工作人员可以看到您正在填写的表单");
        })
        .catch(function () {
          status.textContent = "暂时无法发起视频帮办，请稍后再试";
          panel.hidden = false;
        });
    });
    // A session the bureau arranged (an assessment's video examination) is joined, not asked.
    Array.prototype.forEach.call(document.querySelectorAll("[data-help-join]"), function (join) {
      join.addEventListener("click", function () {
        if (session) return;
        start({ code: join.getAttribute("data-help-join") }, "正在等待鉴定专家进入视频检查……", "已接通视频检查");
      });
    });
    document.getElementById("help-close").addEventListener("click", function () {
      if (!code) return;
      fetch("/api/v1/hrss/help/" + code + "/close", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ outcome: "申请人结束" }),
        credentials: "same-origin",
      }).finally(function () {
        if (session) session.close();
        status.textContent = "帮办已结束";
        panel.setAttribute("data-state", "ended");
      });
    });
  }

  // --- the agent's call page ---------------------------------------------------------------
  function agent() {
    var root = document.getElementById("help-agent");
    if (!root) return;
    var code = root.getAttribute("data-code");
    var status = document.getElementById("help-status");
    var table = document.getElementById("help-form-view");
    var choose = document.getElementById("help-field");
    var value = document.getElementById("help-value");
    var labels = {};
    // Fields the citizen accepted a proposal for: the form is drawn again on each of its
    // messages (one follows every acceptance), so the mark is kept here, not in the row.
    var accepted = {};
    var session = new Session(
      code,
      document.getElementById("help-local"),
      document.getElementById("help-remote"),
      function (kind, payload) {
        if (kind === "form") {
          table.innerHTML = "";
          var chosen = choose.value;
          choose.innerHTML = "";
          (payload.fields || []).forEach(function (f) {
            labels[f.name] = f.label;
            var row = table.insertRow();
            row.setAttribute("data-field", f.name);
            if (accepted[f.name]) row.setAttribute("data-accepted", "true");
            row.insertCell().textContent = f.label;
            var cell = row.insertCell();
            cell.className = "value";
            cell.textContent = f.value;
            var option = document.createElement("option");
            option.value = f.name;
            option.textContent = f.label;
            choose.appendChild(option);
          });
          if (chosen) choose.value = chosen;
          root.setAttribute("data-page", payload.page || "");
        } else if (kind === "accept") {
          accepted[payload.name] = true;
          var row = table.querySelector('tr[data-field="' + CSS.escape(payload.name) + '"]');
          if (row) row.setAttribute("data-accepted", "true");
        }
      },
      function (state) {
        status.textContent = state === "connected" ? "已接通" : "帮办已结束";
        root.setAttribute("data-state", state);
      }
    );
    session.ws.onopen = function () {
      session.send("hello", {});
      session.call();
    };
    // An arranged examination is recorded for the panel: the remote video from when it plays,
    // sent when the agent ends the call (before the page leaves).
    var recordTo = root.getAttribute("data-record");
    var recorder = null;
    var chunks = [];
    var remote = document.getElementById("help-remote");
    if (recordTo && window.MediaRecorder) {
      remote.addEventListener("playing", function () {
        if (recorder || !remote.srcObject) return;
        try {
          recorder = new MediaRecorder(remote.srcObject, { mimeType: "video/webm" });
        } catch (e) {
          return;
        }
        recorder.ondataavailable = function (e) {
          if (e.data && e.data.size) chunks.push(e.data);
        };
        recorder.start(1000);
        root.setAttribute("data-recording", "true");
      });
      var end = document.getElementById("help-end");
      var saved = false;
      var send = function () {
        fetch(recordTo, {
          method: "POST",
          headers: { "Content-Type": "video/webm", "X-CSRF-Token": csrf() },
          body: new Blob(chunks, { type: "video/webm" }),
          credentials: "same-origin",
        })
          .then(function (r) {
            if (!r.ok) throw new Error(String(r.status));
            saved = true;
            end.submit();
          })
          .catch(function () {
            // Kept in the page: ending again tries again, nothing recorded is lost.
            status.textContent = "检查录像未能保存，请再次点击“结束视频检查”重试";
          });
      };
      end.addEventListener("submit", function (e) {
        if (!recorder || saved) return;
        e.preventDefault();
        status.textContent = "正在保存检查录像……";
        if (recorder.state !== "inactive") {
          recorder.onstop = send;
          recorder.stop();
        } else {
          send();
        }
      });
    }
    document.getElementById("help-propose").addEventListener("submit", function (e) {
      e.preventDefault();
      if (!choose.value) return;
      session.send("propose", { name: choose.value, label: labels[choose.value] || choose.value, value: value.value });
      value.value = "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.RTCPeerConnection || !navigator.mediaDevices) return;
    citizen();
    agent();
  });
})();

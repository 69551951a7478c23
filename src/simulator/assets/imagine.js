// Client side of the Grok Imagine simulator: the page itself streams progress from the
// server, updates the percentage, then swaps in the video — so a driver has to wait on
// real DOM changes. Plain browser JavaScript, no build step.
(function () {
  'use strict';
  var S = window.__SIM__ || {};
  var ids = S.ids || {};
  var cls = S.cls || {};
  var T = S.t || {};
  function $(name) { return document.getElementById(ids[name]); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- toasts -----------------------------------------------------------------------
  function clearToasts() { var t = $('toasts'); if (t) t.textContent = ''; }
  function toast(text, action) {
    var box = $('toasts');
    if (!box || S.quietDom) return;
    var t = el('div', { role: 'alert', 'class': cls.toast });
    t.appendChild(el('span', {}, text));
    if (action) {
      var a = el('a', { href: action.href, 'class': cls.btn }, action.text);
      t.appendChild(document.createTextNode(' '));
      t.appendChild(a);
    }
    box.appendChild(t);
    setTimeout(function () { if (t.parentNode) t.parentNode.removeChild(t); }, 20000);
  }
  function info(text) {
    var box = $('toasts');
    if (!box) return;
    var t = el('div', { role: 'status', 'class': cls.toast }, text);
    box.appendChild(t);
    setTimeout(function () { if (t.parentNode) t.parentNode.removeChild(t); }, 4000);
  }
  function loginWall() {
    var app = $('app');
    var next = location.pathname;
    var main = el('main', { id: ids.wall, 'class': cls.wall });
    main.appendChild(el('h1', {}, T.welcome));
    main.appendChild(el('p', {}, T.expiredText));
    var p = el('p');
    p.appendChild(el('a', { href: '/sign-in?next=' + encodeURIComponent(next), 'class': cls.btn }, T.signIn));
    p.appendChild(document.createTextNode(' '));
    p.appendChild(el('a', { href: '/sign-up', 'class': cls.btn }, T.signUp));
    main.appendChild(p);
    app.textContent = '';
    app.appendChild(main);
  }
  function handleStartError(res, body) {
    if (res.status === 401) { loginWall(); return; }
    if (res.status === 429) {
      toast((body && body.message) || T.rateLimited, { href: '/subscribe', text: T.upgrade });
      return;
    }
    toast(T.serverError);
  }

  // ---- progress ---------------------------------------------------------------------
  function showProgress(container) {
    hideProgress();
    if (S.quietDom) return el('span'); // shown nowhere
    var o = el('div', { id: ids.overlay, 'class': cls.overlay, 'aria-label': T.generating });
    o.appendChild(el('span', { 'class': S.progressClass }, '0%'));
    container.appendChild(o);
    return o.firstChild;
  }
  function hideProgress() { var o = $('overlay'); if (o) o.parentNode.removeChild(o); }

  // Reads a streamed JSON-lines response; calls onEvent for each line, onDrop if the
  // connection breaks before a final event. `decode` maps a line to the page's event.
  function readLines(res, decode, onEvent, onDrop) {
    var reader = res.body.getReader();
    var dec = new TextDecoder();
    var buf = '';
    var finished = false;
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) { if (!finished) onDrop(); return; }
        buf += dec.decode(r.value, { stream: true });
        var lines = buf.split('\n');
        buf = lines.pop();
        lines.forEach(function (line) {
          if (!line.trim()) return;
          var ev = decode(JSON.parse(line));
          if (ev.type !== 'progress') finished = true;
          onEvent(ev);
        });
        return pump();
      });
    }
    return pump().catch(function () { if (!finished) onDrop(); });
  }
  function same(ev) { return ev; }

  // The simulator's own transport: GET the events of a started generation.
  function stream(id, onEvent, onDrop) {
    fetch('/rest/imagine/generations/' + encodeURIComponent(id) + '/stream', { credentials: 'same-origin' })
      .then(function (res) {
        if (res.status === 401) { loginWall(); return; }
        if (!res.ok || !res.body) { toast(T.serverError); onEvent({ type: 'abort' }); return; }
        return readLines(res, same, onEvent, onDrop);
      })
      .catch(function () { onDrop(); });
  }

  // Grok's conversation stream as the page's events: the conversation line, the user's
  // message, then streamingVideoGenerationResponse lines per candidate video. Side by side,
  // the generation ends when every candidate has a URL or is blocked (isSoftBlock /
  // isDisallowed): none left is moderated, one is the video, two are the A/B choice.
  function conversationDecoder() {
    var conversationId = null, cands = {}, order = [];
    return function (line) {
      if (line.error) return { type: line.error.message === 'unauthenticated' ? 'unauthenticated' : 'error' };
      var result = line.result || {};
      if (result.conversation) conversationId = result.conversation.conversationId;
      var v = result.response && result.response.streamingVideoGenerationResponse;
      if (!v) return { type: 'progress', progress: 0 };
      if (v.moderated) return { type: 'moderated' };
      if (!cands[v.videoId]) { cands[v.videoId] = { progress: 0 }; order.push(v.videoId); }
      var c = cands[v.videoId];
      c.progress = v.progress;
      if (v.videoUrl) c.url = v.videoUrl;
      if (v.isSoftBlock || v.isDisallowed) c.blocked = true;
      var all = order.map(function (id) { return { videoId: id, url: cands[id].url, blocked: cands[id].blocked, progress: cands[id].progress }; });
      var ended = all.every(function (x) { return x.blocked || x.url; });
      if (!ended) return { type: 'progress', progress: Math.max.apply(null, all.map(function (x) { return x.progress || 0; })) };
      var shown = all.filter(function (x) { return !x.blocked; });
      if (shown.length === 0) return { type: 'moderated' };
      if (shown.length === 1) return { type: 'done', video: { videoId: shown[0].videoId, url: shown[0].url, hd: false } };
      return { type: 'choose', generationId: conversationId, videos: shown.map(function (x) { return { videoId: x.videoId, url: x.url, hd: false }; }) };
    };
  }

  // ---- post page ----------------------------------------------------------------------
  function initPost() {
    var form = $('composer');
    if (!form) return;
    var state = { duration: '6s', resolution: '480p', aspectRatio: '2:3', mode: 'normal', video: S.video || null, busy: false };
    var optionsBtn = $('optionsBtn'), optionsMenu = $('optionsMenu');
    var makeBtn = $('makeBtn'), media = $('media');
    var moreBtn = $('moreBtn'), moreMenu = $('moreMenu'), downloadBtn = $('downloadBtn');

    function promptText() {
      var p = $('prompt');
      return (p.tagName === 'TEXTAREA' ? p.value : p.innerText || '').trim();
    }
    function setMake(label) { makeBtn.textContent = label; makeBtn.setAttribute('aria-label', label); }
    function closeMenus() {
      optionsMenu.hidden = true; optionsBtn.setAttribute('aria-expanded', 'false');
      moreMenu.hidden = true; moreBtn.setAttribute('aria-expanded', 'false');
    }
    // A menu button opens its menu (closing any other) or closes it when already open.
    function toggles(btn, menu) {
      btn.addEventListener('click', function (e) {
        e.stopPropagation();
        var open = menu.hidden;
        closeMenus();
        menu.hidden = !open;
        btn.setAttribute('aria-expanded', String(open));
      });
    }
    toggles(optionsBtn, optionsMenu);
    toggles(moreBtn, moreMenu);
    Array.prototype.forEach.call(optionsMenu.querySelectorAll('[data-opt]'), function (item) {
      item.addEventListener('click', function (e) {
        e.stopPropagation();
        var group = item.getAttribute('data-opt');
        state[group] = item.getAttribute('data-value');
        Array.prototype.forEach.call(optionsMenu.querySelectorAll('[data-opt=' + group + ']'), function (o) {
          if (o.hasAttribute('aria-checked')) o.setAttribute('aria-checked', String(o === item));
        });
        optionsBtn.firstChild.textContent = state.duration + ' · ' + state.resolution;
        closeMenus();
      });
    });
    document.addEventListener('click', closeMenus);
    // Escape closes an open menu, as menus following the WAI-ARIA menu pattern (Radix's among them) do.
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeMenus(); });

    function currentVideoEl() { return document.getElementById(S.videoId); }
    function showVideo(v) {
      hideProgress();
      if (S.quietDom) { state.video = v; return; }
      var ab = $('ab'); if (ab) ab.parentNode.removeChild(ab);
      var old = currentVideoEl();
      if (old) old.parentNode.removeChild(old);
      var video = el('video', { id: S.videoId, autoplay: '', muted: '', loop: '', playsinline: '' });
      video.muted = true;
      video.src = v.url;
      var img = $('image');
      media.insertBefore(video, img.nextSibling);
      state.video = v;
      $('hdBadge').hidden = !v.hd;
      downloadBtn.hidden = false; moreBtn.hidden = false;
      setMake(T.redo);
    }
    function showChoice(genId, videos) {
      hideProgress();
      var sec = el('section', { id: ids.ab, 'class': cls.ab, 'aria-label': T.abQuestion });
      sec.appendChild(el('h2', {}, T.abQuestion));
      videos.forEach(function (v, i) {
        var fig = el('figure', { 'class': cls.card });
        var vid = el('video', { src: v.url, autoplay: '', muted: '', loop: '', playsinline: '' });
        vid.muted = true;
        fig.appendChild(vid);
        var b = el('button', { type: 'button', 'aria-label': T.preferVideo + ' ' + (i === 0 ? 'A' : 'B'), 'class': cls.btn }, T.select);
        b.addEventListener('click', function () {
          fetch('/rest/imagine/ab/' + encodeURIComponent(genId), {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ choice: i }),
          }).then(function (r) { return r.json().then(function (j) { return { r: r, j: j }; }); })
            .then(function (x) {
              if (x.r.status === 401) return loginWall();
              if (!x.r.ok) return toast(T.serverError);
              showVideo(x.j.video);
            }).catch(function () { toast(T.serverError); });
        });
        fig.appendChild(b);
        sec.appendChild(fig);
      });
      media.appendChild(sec);
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      generate(promptText(), undefined);
    });

    // A generation: a new video from the prompt, or ("Extend video") a longer one from the current.
    function generate(prompt, extendVideoId) {
      if (state.busy) return;
      state.busy = true;
      makeBtn.disabled = true;
      clearToasts();
      closeMenus();
      var done = function () { state.busy = false; makeBtn.disabled = false; };
      var onEvent = function (span, genId) {
        return function (ev) {
          if (ev.type === 'progress') { span.textContent = ev.progress + '%'; return; }
          done();
          if (ev.type === 'done') showVideo(ev.video);
          else if (ev.type === 'choose') showChoice(ev.generationId || genId, ev.videos);
          else if (ev.type === 'moderated') { hideProgress(); toast(T.moderated); }
          else if (ev.type === 'error') { hideProgress(); toast(T.serverError); }
          else if (ev.type === 'unauthenticated') { loginWall(); }
          else hideProgress();
        };
      };
      var onDrop = function () {
        done();
        hideProgress();
        toast(T.networkError);
      };
      var request = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ postId: S.postId, prompt: prompt, duration: state.duration, resolution: state.resolution, aspectRatio: state.aspectRatio, mode: state.mode, extendVideoId: extendVideoId }),
      };
      if (S.stream) {
        // Grok's wire: the image's post (its id is the video's parentPostId), then one POST
        // whose response streams the whole generation; the options in videoGenModelConfig,
        // the mode as the message's suffix.
        var image = $('image');
        fetch('/rest/media/post/create', {
          method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin',
          body: JSON.stringify({ mediaType: 'MEDIA_POST_TYPE_IMAGE', mediaUrl: image ? image.getAttribute('src') : '' }),
        }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (j) {
            if (!r.ok || !j.post) { handleStartError(r, j); done(); return; }
            var config = { parentPostId: j.post.id, aspectRatio: state.aspectRatio, videoLength: parseInt(state.duration, 10), resolutionName: state.resolution };
            return fetch('/rest/app-chat/conversations/new', {
              method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin',
              body: JSON.stringify({
                temporary: true, modelName: 'grok-3', message: (prompt ? prompt + ' ' : '') + '--mode=' + state.mode,
                toolOverrides: { videoGen: true }, extendVideoId: extendVideoId,
                responseMetadata: { modelConfigOverride: { modelMap: { videoGenModelConfig: config } } },
              }),
            }).then(function (res) {
              if (!res.ok || !res.body) {
                return res.json().catch(function () { return {}; }).then(function (body) { handleStartError(res, body); done(); });
              }
              return readLines(res, conversationDecoder(), onEvent(showProgress(media)), onDrop);
            });
          });
        }).catch(onDrop);
        return;
      }
      fetch('/rest/imagine/generate', request).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (!res.ok) { handleStartError(res, body); done(); return; }
          stream(body.generationId, onEvent(showProgress(media), body.generationId), onDrop);
        });
      }).catch(function () { done(); toast(T.networkError); });
    }

    downloadBtn.addEventListener('click', function () {
      if (!state.video) return;
      var a = el('a', { href: state.video.url, download: state.video.hd ? 'generated_video_hd.mp4' : 'generated_video.mp4' });
      document.body.appendChild(a); a.click(); a.parentNode.removeChild(a);
    });

    Array.prototype.forEach.call(moreMenu.querySelectorAll('[data-action]'), function (item) {
      item.addEventListener('click', function (e) {
        e.stopPropagation();
        closeMenus();
        if (!state.video) return;
        if (item.getAttribute('data-action') === 'upscale') upscale(state.video);
        else if (item.getAttribute('data-action') === 'delete') confirmDelete(state.video);
        else if (item.getAttribute('data-action') === 'extend') generate('', state.video.videoId);
      });
    });

    function upscale(v) {
      if (S.stream) {
        // Grok's upscale answers once the HD file exists, with its URL.
        info(T.upscaling);
        fetch('/rest/media/video/upscale', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ videoId: v.videoId }) })
          .then(function (r) {
            if (r.status === 401) return loginWall();
            if (!r.ok) return toast(T.serverError);
            return r.json().then(function (j) { showVideo({ videoId: v.videoId, url: j.hdMediaUrl, hd: true }); });
          }).catch(function () { toast(T.serverError); });
        return;
      }
      fetch('/rest/imagine/videos/' + encodeURIComponent(v.videoId) + '/upscale', { method: 'POST' })
        .then(function (r) {
          if (r.status === 401) return loginWall();
          if (!r.ok) return toast(T.serverError);
          info(T.upscaling);
          var poll = function () {
            fetch('/rest/imagine/videos/' + encodeURIComponent(v.videoId)).then(function (r2) { return r2.json(); })
              .then(function (j) {
                if (j.hd) showVideo({ videoId: v.videoId, url: j.hdUrl, hd: true });
                else setTimeout(poll, 150);
              }).catch(function () { setTimeout(poll, 500); });
          };
          poll();
        }).catch(function () { toast(T.serverError); });
    }

    function confirmDelete(v) {
      var d = el('div', { id: ids.dialog, 'class': cls.dialog, role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': ids.dialog + '-t' });
      d.appendChild(el('h2', { id: ids.dialog + '-t' }, T.deleteTitle));
      d.appendChild(el('p', {}, T.deleteText));
      var cancel = el('button', { type: 'button', 'class': cls.btn }, T.cancel);
      var ok = el('button', { type: 'button', 'class': cls.btn }, T.delete);
      if (S.drift) { d.appendChild(ok); d.appendChild(cancel); } else { d.appendChild(cancel); d.appendChild(ok); }
      document.body.appendChild(d);
      cancel.addEventListener('click', function () { d.parentNode.removeChild(d); });
      ok.addEventListener('click', function () {
        fetch('/rest/imagine/videos/' + encodeURIComponent(v.videoId), { method: 'DELETE' }).then(function (r) {
          d.parentNode.removeChild(d);
          if (r.status === 401) return loginWall();
          if (!r.ok) return toast(T.serverError);
          var vid = currentVideoEl(); if (vid) vid.parentNode.removeChild(vid);
          state.video = null;
          $('hdBadge').hidden = true;
          downloadBtn.hidden = true; moreBtn.hidden = true;
          setMake(T.makeVideo);
          info(T.deleted);
        });
      });
    }
  }

  // ---- composer (/imagine) ------------------------------------------------------------
  function initComposer() {
    var form = $('imgComposer');
    if (!form) return;
    var grid = $('grid'), list = grid.querySelector('ul'), btn = $('submitBtn');
    var busy = false;
    function promptText() {
      var p = $('imgPrompt');
      return (p.tagName === 'TEXTAREA' ? p.value : p.innerText || '').trim();
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (busy) return;
      busy = true; btn.disabled = true;
      clearToasts();
      var done = function () { busy = false; btn.disabled = false; };
      fetch('/rest/imagine/images', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: promptText() }),
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (!res.ok) { handleStartError(res, body); done(); return; }
          list.textContent = '';
          var span = showProgress(grid);
          stream(body.generationId, function (ev) {
            if (ev.type === 'progress') { span.textContent = ev.progress + '%'; return; }
            done();
            hideProgress();
            if (ev.type === 'done') {
              ev.images.forEach(function (im) {
                var li = el('li', { 'class': cls.card });
                var a = el('a', { href: im.postUrl });
                a.appendChild(el('img', { src: im.url, alt: T.generatedImage }));
                li.appendChild(a);
                list.appendChild(li);
              });
            } else if (ev.type === 'moderated') toast(T.moderated);
            else if (ev.type === 'error') toast(T.serverError);
            else if (ev.type === 'unauthenticated') loginWall();
          }, function () {
            done(); hideProgress();
            toast(T.networkError);
          });
        });
      }).catch(function () { done(); toast(T.networkError); });
    });
    $('upload').addEventListener('change', function (e) {
      var f = e.target.files && e.target.files[0];
      if (!f) return;
      fetch('/rest/imagine/upload', { method: 'POST', headers: { 'content-type': f.type || 'application/octet-stream' }, body: f })
        .then(function (r) { return r.json().then(function (j) { return { r: r, j: j }; }); })
        .then(function (x) {
          if (x.r.status === 401) return loginWall();
          if (!x.r.ok) return toast(x.j.message || T.uploadFailed);
          location.href = x.j.postUrl;
        }).catch(function () { toast(T.serverError); });
    });
  }

  initPost();
  initComposer();
})();

(function(){
  var state={verdict:'all',suite:'',tag:'',q:''};
  var cases=[].slice.call(document.querySelectorAll('.case'));
  var shown=document.getElementById('shown');
  function apply(){var n=0;cases.forEach(function(c){
    var ok=(state.verdict==='all'||c.dataset.verdict===state.verdict)
      &&(!state.suite||c.dataset.suite===state.suite)
      &&(!state.tag||(' '+c.dataset.tags+' ').indexOf(' '+state.tag+' ')>=0)
      &&(!state.q||c.dataset.search.indexOf(state.q)>=0);
    c.classList.toggle('hidden',!ok); if(ok){n++;}});
    if(shown){shown.textContent=n+' of '+cases.length+' cases shown';}
    var e=document.getElementById('none'); if(e){e.hidden=n>0;}}
  document.querySelectorAll('.toolbar button[data-verdict]').forEach(function(b){b.addEventListener('click',function(){
    state.verdict=b.dataset.verdict;
    document.querySelectorAll('.toolbar button[data-verdict]').forEach(function(x){x.setAttribute('aria-pressed',x===b?'true':'false');});
    apply();});});
  var su=document.getElementById('suite'); if(su){su.addEventListener('change',function(){state.suite=su.value;apply();});}
  var tg=document.getElementById('tag'); if(tg){tg.addEventListener('change',function(){state.tag=tg.value;apply();});}
  var s=document.getElementById('search'); if(s){s.addEventListener('input',function(){state.q=s.value.toLowerCase().trim();apply();});}
  document.querySelectorAll('.cmp').forEach(function(w){
    var stage=w.querySelector('.stage'),r=w.querySelector('.slider'),b=w.querySelector('img.b'),c=w.querySelector('img.c'),now=w.querySelector('.lbl.now'),timer=null;
    function setX(v){stage.style.setProperty('--x',v+'%'); r.value=v;}
    function show(cand){w.classList.toggle('show-c',cand); now.textContent=cand?'candidate (now)':'baseline (approved)';}
    function mode(m){w.dataset.mode=m; w.querySelectorAll('button[data-mode]').forEach(function(x){x.setAttribute('aria-pressed',x.dataset.mode===m?'true':'false');});
      if(timer){clearInterval(timer);timer=null;} show(false);
      if(m==='blink'){timer=setInterval(function(){show(!w.classList.contains('show-c'));},800);}}
    r.addEventListener('input',function(){setX(r.value);});
    stage.addEventListener('pointermove',function(e){if(w.dataset.mode!=='swipe'||!(e.buttons&1))return;var rc=stage.getBoundingClientRect();setX(Math.round(Math.max(0,Math.min(100,(e.clientX-rc.left)/rc.width*100))));});
    stage.addEventListener('click',function(e){if(w.dataset.mode==='blink'){if(timer){clearInterval(timer);timer=null;} show(!w.classList.contains('show-c'));}
      else{var rc=stage.getBoundingClientRect();setX(Math.round(Math.max(0,Math.min(100,(e.clientX-rc.left)/rc.width*100))));}});
    w.querySelectorAll('button[data-mode]').forEach(function(x){x.addEventListener('click',function(){mode(x.dataset.mode);});});
    w.querySelectorAll('button[data-b]').forEach(function(x){x.addEventListener('click',function(){b.src=x.dataset.b;c.src=x.dataset.c;
      w.querySelectorAll('button[data-b]').forEach(function(y){y.setAttribute('aria-pressed',y===x?'true':'false');});});});
  });
  document.addEventListener('error',function(e){var t=e.target;if(t&&t.tagName==='IMG'&&t.parentNode){var f=t.closest('figure');if(f){f.classList.add('missing');}}},true);
  document.addEventListener('keydown',function(e){
    var tag=(e.target&&e.target.tagName)||'';
    if(tag==='INPUT'||tag==='SELECT'||tag==='TEXTAREA'){if(e.key==='Escape'){e.target.blur();}return;}
    if(e.key==='/'&&s){e.preventDefault();s.focus();return;}
    var vis=cases.filter(function(c){return !c.classList.contains('hidden');}); if(!vis.length)return;
    var cur=document.activeElement&&document.activeElement.closest?document.activeElement.closest('.case'):null;
    var i=vis.indexOf(cur), next=null;
    if(e.key==='j'||e.key==='n'){next=vis[i+1]||vis[0];} else if(e.key==='k'||e.key==='p'){next=i<0?vis[vis.length-1]:(vis[i-1]||vis[vis.length-1]);}
    else if(e.key==='o'&&cur){var d=cur.querySelector('details.body');if(d){d.open=!d.open;}}
    if(next){e.preventDefault();next.focus();next.scrollIntoView({block:'start'});}
  });
  apply();
})();

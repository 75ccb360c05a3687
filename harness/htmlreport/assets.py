"""The report's inline CSS and script: one file, no network, readable without the script.

Without JavaScript every panel still opens (``<details>``) and every link works; the script adds
the filters (verdict, step, tag, cause, text) and the matrix cells that apply them. A failed
scenario's panel is open from the start.
"""

CSS = """
:root{--ok:#1a7f37;--okbg:#dafbe1;--bad:#cf222e;--badbg:#ffebe9;--skip:#9a6700;--skipbg:#fff8c5;
--mut:#57606a;--line:#d0d7de;--bg:#f6f8fa;--fault:#bc4c00}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328}
header{padding:14px 24px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:22px 0 8px}h3{font-size:14px;margin:14px 0 6px}
main{padding:0 24px 40px;max-width:1500px}
code,pre,.mono{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.meta{color:var(--mut)}.meta span{margin-right:14px}
.counts{display:flex;gap:8px;margin:8px 0 2px;flex-wrap:wrap}
.count{border:1px solid var(--line);border-radius:6px;padding:4px 10px;background:#fff}
.count b{font-size:18px;margin-right:4px}
.passed{color:var(--ok)}.failed,.error{color:var(--bad)}.skipped{color:var(--skip)}
.pill{display:inline-block;border-radius:10px;padding:0 7px;font-size:12px;font-weight:600}
.pill.passed{background:var(--okbg)}.pill.failed,.pill.error{background:var(--badbg)}
.pill.skipped,.pill.not-run{background:var(--skipbg)}
.filters{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);
padding:8px 0;display:flex;gap:10px;flex-wrap:wrap;align-items:center}
.filters label{cursor:pointer}.filters select,.filters input{font:inherit;padding:2px 4px}
#shown{color:var(--mut)}button.link{border:0;background:none;color:#0969da;cursor:pointer;padding:0}
table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:3px 7px;vertical-align:top;text-align:left}
th{background:var(--bg);font-weight:600}
table.matrix td{text-align:center;padding:2px}table.matrix th.group{text-align:center}
table.matrix th.step{white-space:nowrap}
.cell{display:inline-flex;gap:3px;flex-wrap:wrap;justify-content:center;cursor:pointer;border:0;
background:none;padding:2px;font:inherit}
.chip{display:inline-block;min-width:22px;border-radius:4px;padding:0 5px;font-size:12px;font-weight:600;
border:1px solid transparent}
.chip.passed{background:var(--okbg);border-color:#4ac26b}.chip.failed,.chip.error{background:var(--badbg);border-color:#ff8182}
.chip.skipped,.chip.not-run{background:var(--skipbg);border-color:#d4a72c}
.cell:hover .chip,.cell:focus .chip{outline:2px solid #0969da}
table.list{width:100%}table.list td.name{width:45%}
details.scenario{border:1px solid var(--line);border-radius:6px;margin:8px 0}
details.scenario>summary{padding:6px 10px;cursor:pointer;background:var(--bg);border-radius:6px}
details.scenario[open]>summary{border-bottom:1px solid var(--line);border-radius:6px 6px 0 0}
.body{padding:4px 12px 12px}
.cols{display:flex;gap:20px;flex-wrap:wrap;align-items:flex-start}
td.ok{color:var(--ok);font-weight:600}td.bad{color:var(--bad);font-weight:600}
tr.bad td{background:#fff5f5}
.tl{width:100%;height:auto;border:1px solid var(--line);background:#fff}
.tl text{font:10px system-ui,sans-serif;fill:#1f2328}.tl .lane{fill:var(--mut)}
.tl .grid{stroke:#eaeef2}.tl .mark{fill:#0969da}.tl .mark.bad{fill:var(--bad)}
.tl .pkt{fill:#8250df}.tl .st{fill:#1a7f37}.tl .st.bad{fill:var(--bad)}.tl .tr{fill:#0a3069}
.tl .fault{stroke:var(--fault);stroke-width:1.5;stroke-dasharray:4 3}.tl .clear{stroke:var(--ok);stroke-width:1.5;stroke-dasharray:4 3}
.tl .win.ok{fill:var(--okbg);stroke:#4ac26b}.tl .win.bad{fill:var(--badbg);stroke:var(--bad)}
.tl .dl{stroke-width:2}.tl .dl.ok{stroke:var(--ok)}.tl .dl.bad{stroke:var(--bad)}
table.events{width:100%}table.events td:first-child{text-align:right;white-space:nowrap}
table.events tr.fault td{background:#fff1e5}table.events tr.bad td{color:var(--bad)}
table.events tr.window td{color:var(--mut)}table.events tr.deadline.bad td{color:var(--bad);font-weight:600}
table.events tr.deadline.ok td{color:var(--ok)}
.scroll{max-height:420px;overflow:auto;border:1px solid var(--line)}
.scroll table{border:0;width:100%}
.topo{border:1px solid var(--line);background:#fff}
.topo text{font:11px system-ui,sans-serif}.topo .node{fill:#ddf4ff;stroke:#0969da}
.topo .node.router{fill:#fbefff;stroke:#8250df}.topo .node.hit{stroke:var(--bad);stroke-width:3}
.topo line{stroke:#57606a;stroke-width:2}.topo line.hit{stroke:var(--bad);stroke-width:3;stroke-dasharray:6 3}
.topo text.hit{fill:var(--bad);font-weight:700}
pre.cmd{background:var(--bg);padding:6px 8px;border:1px solid var(--line);border-radius:4px;
white-space:pre-wrap;word-break:break-all;margin:4px 0}
.hidden{display:none!important}
ul.links{margin:4px 0;padding-left:18px}
"""

JS = r"""
(function(){
"use strict";
var F={verdict:{},step:"",tag:"",family:"",errno:"",text:""};
function $(s,r){return (r||document).querySelector(s)}
function $$(s,r){return Array.prototype.slice.call((r||document).querySelectorAll(s))}
function match(el){
  var d=el.dataset;
  if(Object.keys(F.verdict).length&&!F.verdict[d.verdict])return false;
  if(F.step&&d.step!==F.step)return false;
  if(F.tag&&(" "+d.tags+" ").indexOf(" "+F.tag+" ")<0)return false;
  if(F.family&&d.family!==F.family)return false;
  if(F.errno&&(" "+d.errnos+" ").indexOf(" "+F.errno+" ")<0)return false;
  if(F.text&&d.search.indexOf(F.text)<0)return false;
  return true;
}
function apply(){
  var n=0;
  $$("[data-verdict]").forEach(function(el){var ok=match(el);el.classList.toggle("hidden",!ok);
    if(ok&&el.tagName==="TR")n++;});
  $$(".skipgroup").forEach(function(g){g.classList.toggle("hidden",!$$("li[data-verdict]:not(.hidden)",g).length)});
  var cause=$("#cause");
  if(cause){cause.classList.toggle("hidden",!F.family);
    $("#cause-name").textContent=F.family+(F.errno?" "+F.errno:"");}
  var s=$("#shown");if(s)s.textContent=n+" shown";
}
function read(){
  F.verdict={};
  $$("input[name=verdict]").forEach(function(c){if(c.checked)F.verdict[c.value]=1});
  F.step=$("#f-step").value;F.tag=$("#f-tag").value;F.text=$("#f-text").value.toLowerCase();
  apply();
}
function openHash(){
  var id=location.hash.slice(1);if(!id)return;
  var el=document.getElementById(id);
  if(el&&el.tagName==="DETAILS"){el.open=true;el.classList.remove("hidden");}
}
document.addEventListener("DOMContentLoaded",function(){
  $$(".filters input,.filters select").forEach(function(el){el.addEventListener("input",read);el.addEventListener("change",read)});
  $$(".cell").forEach(function(b){b.addEventListener("click",function(){
    F.step=b.dataset.step;F.family=b.dataset.family;F.errno=b.dataset.errno||"";
    $("#f-step").value=F.step;apply();$("#scenarios").scrollIntoView();})});
  var c=$("#cause-clear");if(c)c.addEventListener("click",function(){F.family="";F.errno="";apply();});
  window.addEventListener("hashchange",openHash);
  if($(".filters"))read();openHash();
  document.body.dataset.ready="1";
});
})();
"""

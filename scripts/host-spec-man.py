#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-only
# Writes docs/xenfit-host-spec.5 from docs/host-spec.md on stdout: the format
# sections (example, conventions, keys, the low-memory threshold, memory free
# for new VMs) as man(7); tables become tagged paragraphs. The simulator's
# internals stay in the Markdown. Usage: host-spec-man.py docs/host-spec.md
import re,sys
src=open(sys.argv[1]).read().split('\n')
keep_sections={'Example','Conventions','Keys','Memory free for new VMs (`host show`)','Low-memory threshold'}
def inline(t):
    t=t.replace('\\','\\e')
    t=re.sub(r'`([^`]*)`', lambda m:'\\fB'+m.group(1)+'\\fR', t)
    t=re.sub(r'\*\*([^*]*)\*\*', lambda m:'\\fB'+m.group(1)+'\\fR', t)
    t=t.replace('-','\\-')
    t=t.replace(' x ',' \\(mu ')
    return t
def line(t):
    t=inline(t)
    if t.startswith('.') or t.startswith("'"):
        t='\\&'+t
    return t
out=[]
out.append('.\\" SPDX-License-Identifier: LGPL-2.1-only')
out.append('.\\" From docs/host-spec.md (the format; the simulator\'s internals stay there).')
out.append('.TH XENFIT\\-HOST\\-SPEC 5 2026-12-05 "xenfit 0.1.0" "File Formats"')
out.append('.SH NAME')
out.append('xenfit-host-spec \\- the JSON description of a simulated Xen host')
out.append('.SH SYNOPSIS')
out.append('.B xenfit host show \\-\\-host')
out.append('.I SPEC.json')
out.append('.br')
out.append('.B xenfitd \\-\\-host')
out.append('.I SPEC.json')
out.append('.SH DESCRIPTION')
i=1
section=None; skip=False; para=[]; table=[]; incode=False
def flush():
    global para
    if para:
        if not inlist: out.append('.PP')
        out.append(line(' '.join(para)))
        para=[]
def flush_table():
    global table
    if not table: return
    hdr=[c.strip() for c in table[0].strip('|').split('|')]
    for row in table[2:]:
        cells=[c.strip() for c in row.strip('|').split('|')]
        out.append('.TP')
        out.append(line(cells[0] if cells[0].startswith('`') else '`'+cells[0]+'`' if False else cells[0]))
        rest=[]
        for h,c in zip(hdr[1:],cells[1:]):
            if h in ('meaning','meaning and source','host'):
                rest.append(c)
            else:
                rest.append(h+': '+c+'.')
        out.append(line(' '.join(rest)))
    table=[]
inlist=False
while i<len(src):
    s=src[i]; i+=1
    if s.startswith('## '):
        flush(); flush_table()
        name=s[3:].strip()
        skip = name not in keep_sections
        if not skip: out.append('.SH '+inline(name.replace('`','')).upper())
        continue
    if s.startswith('### '):
        flush(); flush_table()
        name=s[4:].strip()
        if name in keep_sections:
            skip=False; out.append('.SH '+inline(name.replace('`','')).upper()); continue
        if name.startswith('Memory free') or name.startswith('Low-memory'):
            skip=True; continue
        if not skip: out.append('.SS '+inline(name))
        continue
    if skip: continue
    if s.startswith('```'):
        flush()
        if not incode:
            out.append('.PP'); out.append('.RS 2'); out.append('.nf'); incode=True
        else:
            out.append('.fi'); out.append('.RE'); incode=False
        continue
    if incode:
        out.append(s.replace('\\','\\e').replace('-','\\-')); continue
    if s.startswith('|'):
        flush(); table.append(s); continue
    else:
        flush_table()
    if s.startswith('- '):
        flush(); out.append('.IP \\(bu 2'); para=[s[2:]]; inlist=True; continue
    if s.strip()=='' :
        flush(); inlist=False; continue
    if inlist and s.startswith('  '):
        para.append(s.strip()); continue
    para.append(s.strip())
flush(); flush_table()
out.append('.SH SEE ALSO')
out.append('.BR xenfit (1),')
out.append('.BR xenfitd (8);')
out.append('docs/host\\-spec.md in the source tree for what the simulator does with a spec')
out.append('(allocation, claims, destruction) and where it was matched to Xen 4.17.')
print('\n'.join(out))

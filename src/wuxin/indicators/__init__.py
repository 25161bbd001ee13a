"""Operating indicators: the pure engine (no SQL, no clock of its own).

days.py      local days cut in the site's time zone (default Asia/Shanghai), the look-back window, which days a point touches
series.py    one device's readings and events over a run of days, as numpy arrays
kernels.py   vectorised building blocks: per-day reductions, time-weighted hold, counter
             increases with resets, haversine tracks, episodes
declare.py   indicator declarations (data) and the loader over every scenario pack
engine.py    device-days -> values with quality; enterprise day and month aggregates
index.py     industry index: quartiles per peer group (published from 5 enterprises), percentiles
planner.py   the incremental plan: dirty (device, day) pairs -> device runs, enterprise days, months
"""

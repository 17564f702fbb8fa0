"""Regenerate docs/tour.png, the README's one figure: `.venv/bin/python docs/make_tour_figure.py`."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import workbench as wb  # noqa: E402

log = wb.data.load_open_bandit("random", campaign="all")
bts = wb.data.load_open_bandit("bts", campaign="all")
dist = wb.data.open_bandit_bts_policy("all", random_state=0)
policy = np.broadcast_to(dist, (len(log),) + dist.shape)
frame = wb.ope.evaluate_policy(log, policy, estimators=["dm", "ips", "snips", "dr", "sndr", "switch-dr", "dr-os"],
                               n_bootstrap=1000, random_state=0)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
wb.plotting.forest_plot(frame, reference=bts.reward.mean(), reference_label="on-policy click rate of BTS", ax=ax,
                        title="Would Thompson sampling have beaten random? (Open Bandit sample)")
ax.set_xlabel("estimated click rate of the BTS policy, from the uniform-random log (95% intervals)")
fig.tight_layout()
fig.savefig(Path(__file__).with_name("tour.png"), dpi=110)

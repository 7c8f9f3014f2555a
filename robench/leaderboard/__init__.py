"""robench.leaderboard."""

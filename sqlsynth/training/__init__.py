"""Rows shaped for how Text-to-SQL models are trained now: RL prompts with an execution reward
(``rl.py``; the reward is ``sqlsynth.reward``)."""

"""Reusable Qt widgets for music: sheet music, piano roll and the audio player.

`score_view.ScoreView`, `piano_roll.PianoRoll` and `audio_player.AudioPlayer`; each documents
its small public API in its module docstring (map: docs/ARCHITECTURE.md). The logic they show
lives in app/music (notation, pianoroll, player); these modules only draw and wire.
"""

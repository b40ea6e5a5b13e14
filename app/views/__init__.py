"""Views that look inside the network while it trains (decision boundary, weight and
gradient history, confusion matrix, ...); :class:`~app.views.manager.InsightViews` puts them
into a window."""

"""Back-office pages outside the model admins (dashboard refresh, downloads...)."""

app_name = "reports"
urlpatterns = []

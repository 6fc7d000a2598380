"""/api/v1/: the JWT API for external systems."""

urlpatterns = []

"""The homeowner's pages: sign-in, the dashboard, its chart data and its stream token."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from graphql_jwt.shortcuts import get_token

from hems.dashboard import now, series
from hems.dashboard.periods import VIEWS, BadPeriod, period
from hems.devices.models import Home

LOGIN = "dashboard:login"


class LoginView(auth_views.LoginView):
    """Django's sign-in, with the API's accounts (django-axes throttles it like every login)."""

    template_name = "dashboard/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("dashboard:index")


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy(LOGIN)


def period_of(request, home: Home):
    return period(request.GET.get("view"), request.GET.get("date"), home.zone, timezone.now())


def chart_url(view: str, day) -> str:
    return f"{reverse('dashboard:index')}?view={view}&date={day.isoformat()}"


@never_cache  # the page carries an access token
@login_required(login_url=LOGIN)
@require_GET
def index(request):
    home = Home.of(request.user)
    try:
        shown = period_of(request, home)
    except BadPeriod as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    offset = timezone.now().astimezone(home.zone).strftime("%z")
    context = {
        "home": home,
        "zone_offset": f"UTC{offset[:3]}:{offset[3:]}",
        "period": shown,
        "views": [(view, chart_url(view, shown.day)) for view in VIEWS],
        "previous_url": chart_url(shown.view, shown.previous),
        "next_url": chart_url(shown.view, shown.next) if shown.next else None,
        "today_url": None if shown.is_current else chart_url(shown.view, timezone.now().astimezone(home.zone).date()),
        "chart": series.chart(request.user.pk, shown),
        "data_url": f"{reverse('dashboard:data')}?view={shown.view}&date={shown.day.isoformat()}",
        "live": {
            "energyStats": now.energy_stats(request.user.pk),
            "devices": now.devices(request.user.pk),
            "token": get_token(request.user),
            "tokenTtl": settings.GRAPHQL_JWT["JWT_EXPIRATION_DELTA"].total_seconds(),
            "tokenUrl": reverse("dashboard:token"),
            "streamPath": "/graphql/",
            "timeZone": home.time_zone,
        },
    }
    return render(request, "dashboard/index.html", context)


@never_cache
@login_required(login_url=LOGIN)
@require_GET
def data(request):
    """The chart's figures for ``?view=&date=``, for the page to redraw without a reload."""
    try:
        shown = period_of(request, Home.of(request.user))
    except BadPeriod as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(series.chart(request.user.pk, shown))


@never_cache
@require_POST
def token(request):
    """A fresh access token for the signed-in user, for the live stream (the same token
    as the API's loginUser). Session and CSRF protected: another site cannot get one."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Sign in first."}, status=401)
    return JsonResponse(
        {"token": get_token(request.user), "ttl": settings.GRAPHQL_JWT["JWT_EXPIRATION_DELTA"].total_seconds()}
    )

"""The pages start a job and show its progress: the campaign console and the certification
dashboard answer with the job's page (a progress bar, the state, in Chinese; English too), the
job appears in 我的后台任务, and once run the page leads to the result; a refusal is still
shown next to its field on the starting page, with nothing queued."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select, update

from shuhui.catalog.models import Dataset
from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.jobs.models import Job
from tests.fixtures import as_user, csrf_from
from tests.jobs.support import job_of, run_job


def post(client: TestClient, path: str, data: dict[str, str]) -> Response:
    return client.post(path, data={**data, "csrf_token": csrf_from(client)}, follow_redirects=False)


def count(app: FastAPI) -> int:
    with app.state.session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(Job)) or 0)


def test_the_campaign_console_starts_a_job_whose_page_follows_it_to_the_campaign(
    city_app: FastAPI,
) -> None:
    civil = as_user(city_app, "civil")
    refused = post(civil, "/hrss/campaigns", {"rule": "elderly-allowance", "limit": "0"})
    assert refused.status_code == 422 and 'data-field="limit"' in refused.text
    assert count(city_app) == 0  # refused before anything was queued

    started = post(civil, "/hrss/campaigns", {"rule": "elderly-allowance", "evaluated_on": ""})
    job_id = job_of(started)
    page = civil.get(started.headers["location"])
    assert page.status_code == 200
    today = local_today().isoformat()
    assert f"政策找人：高龄津贴（{today}）" in page.text
    bar = re.search(r'<div class="job-bar"[^>]*>', page.text, re.S)
    assert bar is not None and 'role="progressbar"' in bar.group(0)
    assert 'aria-valuemin="0"' in bar.group(0) and 'aria-valuemax="100"' in bar.group(0)
    assert 'aria-label="任务进度"' in bar.group(0) and "aria-valuenow" not in bar.group(0)
    assert 'id="job-state"' in page.text and "排队中" in page.text and "等待运行" in page.text
    assert 'fetch("/api/v1/jobs/" + box.getAttribute("data-id")' in page.text
    listed = civil.get("/jobs").text
    assert f'<tr data-id="{job_id}" data-state="queued">' in listed
    # Started twice while queued: the same job.
    again = post(civil, "/hrss/campaigns", {"rule": "elderly-allowance", "evaluated_on": today})
    assert job_of(again) == job_id

    job = run_job(city_app, started)
    assert job.state == "done" and job.link is not None
    assert job.link.startswith("/hrss/campaigns/ZC-")
    done = civil.get(f"/jobs/{job_id}").text
    assert 'aria-valuenow="100"' in done and "已完成" in done
    assert f'<a class="button" id="job-link" href="{job.link}">查看结果</a>' in done
    assert "找到候选对象" in done and "<script>" not in done.split('id="job"', 1)[1]
    campaign = civil.get(job.link)
    assert campaign.status_code == 200 and 'id="funnel-chart"' in campaign.text
    api = civil.get(f"/api/v1/jobs/{job_id}").json()
    assert api["state"] == "done" and api["result"]["candidates"] > 0
    english = civil.get(f"/jobs/{job_id}?lang=en").text
    assert "Done" in english and "Campaign: Elderly allowance" in english
    assert "See the result" in english and "candidates found" in english


def test_the_certification_dashboard_starts_the_cycle_as_a_job(city_app: FastAPI) -> None:
    hr = as_user(city_app, "officer")
    started = post(hr, "/hrss/certification/run", {"date": "2026-10-31", "confirm": "yes"})
    page = hr.get(started.headers["location"]).text
    assert "养老保险待遇资格认证（比对日 2026-10-31）" in page and 'role="progressbar"' in page
    job = run_job(city_app, started)
    assert job.state == "done", job.reason
    assert job.link == "/hrss/certification?ran=2026-10-31#runs"
    dashboard = hr.get(job.link).text
    assert 'data-again="false"' in dashboard and 'data-run="2026-10-31"' in dashboard
    assert "后台任务" in hr.get("/hrss/certification").text  # the subnav leads to /jobs


def test_the_catalog_registers_and_assesses_quality_as_a_job(synced_city_app: FastAPI) -> None:
    app = synced_city_app  # every table registered (without quality): one made out of date
    with transaction(app.state.session_factory) as db:
        db.execute(update(Dataset).where(Dataset.table_name == "households").values(version=0))
    assert post(as_user(app, "citizen"), "/catalog/sync", {}).status_code == 403
    operator = as_user(app, "operator")
    home = operator.get("/catalog").text
    assert 'id="catalog-sync"' in home and "登记新版本并评估质量" in home
    started = post(operator, "/catalog/sync", {})
    page = operator.get(started.headers["location"]).text
    assert "登记数据底座的新版本并评估数据质量" in page and 'role="progressbar"' in page
    assert job_of(post(operator, "/catalog/sync", {})) == job_of(started)  # queued: the same

    job = run_job(app, started)
    assert job.state == "done", job.reason
    assert job.result is not None and job.link == "/catalog"
    assert (job.result["registered"], job.result["updated"]) == (0, 1)
    assert job.progress_total == sum(int(n) for n in job.result.values())
    assert job.result_text == "新登记 0 个数据集，更新 1 个，均已评估数据质量"
    with app.state.session_factory() as db:
        scored = db.scalar(select(Dataset.quality_score).where(Dataset.table_name == "households"))
    assert scored is not None and 0 <= scored <= 100

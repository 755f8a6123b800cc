"""What each ledger action is called, for people: one place for every action any package
records, in Chinese and English. A page shows an entry's action through :func:`action_name`,
never its dotted string; ``tests/trust/test_ledger_actions.py`` reads the code for every action
recorded and fails on one without a name here.

Some names say what the act meant to the person the entry is about (谁用了我的数据): "an
institution used my certificate" rather than "certificate use recorded".
"""

from __future__ import annotations

from shuhui.core.i18n import Text

ACTION_NAMES: dict[str, tuple[str, str]] = {
    # authorisations (委托授权, 用证授权)
    "mandate.created": ("起草委托授权", "Mandate drafted"),
    "mandate.signed": ("签署委托授权", "Mandate signed"),
    "mandate.used": ("代理人凭委托办理", "Agent acted under the mandate"),
    "mandate.refused": ("代理人办理被拒绝", "Agent refused"),
    "mandate.checked": ("工作人员核查委托", "Officer checked a mandate"),
    "mandate.verified": ("工作人员核验授权码", "Officer verified the code"),
    "mandate.revoked": ("撤销委托授权", "Mandate revoked"),
    "mandate.expired": ("委托授权到期", "Mandate expired"),
    "mandate.exhausted": ("委托次数用完", "Mandate uses exhausted"),
    "cert_use.created": ("起草用证授权", "Certificate-use authorisation drafted"),
    "cert_use.signed": ("签署用证授权", "Certificate-use authorisation signed"),
    "cert_use.used": (
        "机构凭授权使用了我的证照或数据",
        "An institution used my certificate or data under my authorisation",
    ),
    "cert_use.refused": ("机构用证被拒绝", "Certificate use refused"),
    "cert_use.verified": ("工作人员核验授权码", "Officer verified the code"),
    "cert_use.revoked": ("撤销用证授权", "Certificate-use authorisation revoked"),
    "cert_use.expired": ("用证授权到期", "Certificate-use authorisation expired"),
    "cert_use.exhausted": ("用证次数用完", "Certificate-use authorisation exhausted"),
    # A signature refused because the account's password was set by someone else (an admin).
    "mandate.sign_refused": (
        "签署委托授权被拒绝：密码非本人设置",
        "Mandate signature refused: password not set by the holder",
    ),
    "cert_use.sign_refused": (
        "签署用证授权被拒绝：密码非本人设置",
        "Certificate-use signature refused: password not set by the holder",
    ),
    # keys: a person's signing key, and the platform's own (the same action)
    "key.issued": ("签发签名密钥", "Signing key issued"),
    "key.registered": ("登记个人签名密钥", "Personal signing key registered"),
    "key.revoked": ("注销个人签名密钥", "Personal signing key revoked"),
    "key.refused": (
        "登记签名密钥被拒绝：密码非本人设置",
        "Key registration refused: password not set by the holder",
    ),
    # accounts
    "account.created": ("创建账户", "Account created"),
    "account.updated": ("修改账户信息", "Account details changed"),
    "account.identity_bound": ("账户绑定身份", "Identity bound to the account"),
    "account.binding_requested": ("申请绑定身份", "Identity binding requested"),
    "account.binding_approved": ("批准绑定身份", "Identity binding approved"),
    "account.binding_rejected": ("驳回绑定身份", "Identity binding rejected"),
    "account.binding_refused": (
        "身份绑定审批被拒绝（不能审批自己的申请或无审批权限）",
        "Binding decision refused (one's own request, or no right to decide)",
    ),
    "account.roles_changed": ("调整账户角色", "Account roles changed"),
    "account.enabled": ("启用账户", "Account enabled"),
    "account.disabled": ("停用账户", "Account disabled"),
    "account.password_changed": ("本人修改密码", "Password changed"),
    "account.password_set": ("设置密码", "Password set"),
    "account.password_reset": ("管理员重置密码", "Password reset by an admin"),
    "account.locked": ("密码多次错误，账户临时锁定", "Account locked after wrong passwords"),
    "login.address_locked": (
        "同一地址多次密码错误，暂停登录",
        "Logins from an address paused after wrong passwords",
    ),
    # e-seals
    "seal.created": ("制作电子印章", "E-seal created"),
    "seal.used": ("加盖电子印章", "E-seal applied"),
    "seal.revoked": ("注销电子印章", "E-seal revoked"),
    # smart approval: e-licences, ratings (好差评) and their follow-ups
    "approval.licence.issued": ("签发电子证照", "E-licence issued"),
    "approval.licence.read": ("他人查看了我的电子证照", "Someone else opened my e-licence"),
    "approval.licence.published": ("电子证照写入证照库", "E-licence written to the data core"),
    "approval.rating.given": ("评价办件服务", "Service rated"),
    "approval.followup.opened": ("差评转部门整改", "Bad rating sent to the department"),
    "approval.followup.replied": ("部门答复差评并办结", "Department answered a bad rating"),
    # the data core and the catalog
    "data.loaded": ("数据入库", "Data loaded"),
    "catalog.synced": ("更新数据目录", "Catalog updated"),
    # data assets
    "asset.applied": ("申请数据资产登记", "Asset registration applied for"),
    "asset.resubmitted": ("补正后重新提交登记", "Asset application resubmitted"),
    "asset.registered": ("登记通过并签发证书", "Asset registered, certificate sealed"),
    "asset.returned": ("退回补正", "Asset application returned"),
    "asset.rejected": ("不予登记", "Asset application rejected"),
    "asset.valued": ("数据资产估值", "Asset valued"),
    # the data channel
    "channel.consumer.registered": ("机构登记为数据使用方", "Data consumer registered"),
    "channel.membership.applied": ("申请入驻数据专区", "Zone membership applied for"),
    "channel.membership.approved": ("入驻数据专区获批", "Zone membership approved"),
    "channel.membership.rejected": ("入驻数据专区未获批", "Zone membership rejected"),
    "channel.application.submitted": ("申请使用数据产品", "Data-use application submitted"),
    "channel.application.resubmitted": ("补正后重新申请", "Data-use application resubmitted"),
    "channel.application.approve": ("审核同意数据使用申请", "Data-use application approved"),
    "channel.application.reject": ("驳回数据使用申请", "Data-use application rejected"),
    "channel.application.return": ("退回数据使用申请补正", "Data-use application returned"),
    "channel.grant.issued": ("授予数据使用权限", "Data-use grant issued"),
    "channel.grant.revoked": ("撤销数据使用权限", "Data-use grant revoked"),
    "channel.key.issued": ("签发接口密钥", "API key issued"),
    "channel.key.rotated": ("更换接口密钥", "API key rotated"),
    "channel.key.revoked": ("注销接口密钥", "API key revoked"),
    "channel.answered": ("数据通道调用得到答复", "A data-channel call was answered"),
    "channel.refused": ("数据通道调用被拒绝", "A data-channel call was refused"),
    "channel.statement_issued": ("出具月度账单", "Monthly statement issued"),
    # data custody (数据托管): an organisation's own data offered through the channel
    "channel.hosted.offered": (
        "通过数据通道提供本企业托管的数据",
        "Our hosted data offered through the data channel",
    ),
    "channel.hosted.withdrawn": (
        "本企业托管的数据停止经数据通道提供",
        "Our hosted data withdrawn from the data channel",
    ),
    "catalog.hosted_registered": (
        "本企业托管的数据登记到数据目录",
        "Our hosted data registered in the data catalog",
    ),
    "catalog.hosted_closed": (
        "数据目录关闭本企业托管数据的条目",
        "Our hosted data's catalog entry closed",
    ),
    "enterprise.custody_uploaded": (
        "企业上传数据交由平台托管",
        "Enterprise data uploaded for custody",
    ),
    "enterprise.custody_withdrawn": ("企业撤回托管的数据", "Hosted enterprise data withdrawn"),
    # background jobs (后台任务, shuhui.jobs): each start, attempt and end
    "jobs.queued": ("发起后台任务", "Background job started"),
    "jobs.started": ("后台任务开始运行", "Background job running"),
    "jobs.done": ("后台任务完成", "Background job done"),
    "jobs.failed": ("后台任务失败", "Background job failed"),
    "jobs.resumed": ("后台任务中断，重新排队", "Background job interrupted, queued again"),
    # insight (shuhui.insight): the list behind a figure, the monthly reports
    "insight.list_viewed": ("查看了指标背后的明细", "Opened the list behind a figure"),
    "insight.report_made": ("生成了月度分析报告", "Monthly analysis report made"),
    # policy campaigns (政策找人)
    "programs.campaign_run": ("开展政策找人", "Policy campaign run"),
    "programs.explained": (
        "部门工作人员查看了政策核对依据",
        "An officer looked at why a policy applies",
    ),
    "programs.offered": ("部门主动推送政策", "A department offered a policy"),
    "programs.rejected": ("部门核对后未予推送", "A department did not confirm a policy"),
    "programs.accepted": ("确认领取政策待遇", "Policy benefit accepted"),
    "programs.declined": ("谢绝推送的政策", "Offered policy declined"),
    "programs.applied": ("补充信息申请政策", "Application completed"),
    "programs.application_approved": ("部门批准申请", "Application approved"),
    "programs.application_rejected": ("部门未批准申请", "Application rejected"),
    "programs.granted": ("开始享受政策待遇", "Benefit granted"),
    # pension certification (养老保险待遇资格认证, programs.certification)
    "certification.cycle_run": ("开展养老保险待遇资格认证（数据比对）", "Certification cycle run"),
    "certification.certified": ("比对到生存信息，通过资格认证", "Certified by data"),
    "certification.notified": ("通知本人完成资格认证", "Told to certify"),
    "certification.visit_assigned": ("派发上门认证任务", "Home visit assigned"),
    "certification.visited": ("记录上门认证结果", "Home visit recorded"),
    "certification.suspended": ("逾期未认证，暂停发放养老金", "Pension suspended"),
    "certification.resumed": ("恢复发放养老金并补发", "Pension resumed with back pay"),
    "certification.stopped": ("因死亡终止发放养老金", "Pension stopped: death"),
    "certification.overpayment": ("核定死亡后多发的养老金", "Overpayment after death found"),
    "certification.recovered": ("追回多发的养老金", "Overpayment recovered"),
    "certification.signed": ("本人签署声明完成资格认证", "Certified by own signed declaration"),
    "certification.self_refused": (
        "他人代为资格认证被拒绝",
        "Certification by someone else refused",
    ),
    "certification.viewed": ("工作人员查看资格认证证据", "Officer viewed certification evidence"),
    "certification.visit_read": (
        "街道工作人员为上门认证查看姓名和住址",
        "A street office read a name and address for a home visit",
    ),
    # monitoring alarms (监测告警, shuhui.monitor.alarms)
    "monitor.alarm_raised": ("产生监测告警", "Monitoring alarm raised"),
    "monitor.alarm_acknowledged": ("确认监测告警", "Alarm acknowledged"),
    "monitor.alarm_dispatched": ("派发监测告警给处置单位", "Alarm dispatched to a unit"),
    "monitor.alarm_resolved": ("登记告警处置完毕", "Alarm resolved"),
    "monitor.alarm_closed": ("关闭监测告警", "Alarm closed"),
    "monitor.alarm_escalated": ("告警超时未确认，升级", "Alarm escalated"),
    "monitor.alarm_deescalated": ("监测条件恢复，告警降级", "Alarm de-escalated"),
    # fund-risk checks (基金监管, shuhui.programs.fundrisk)
    "fundrisk.detection_run": ("开展基金风险检测", "Fund-risk detection run"),
    "fundrisk.alert_opened": ("发现基金风险疑点", "A fund-risk alert was opened"),
    "fundrisk.explained": (
        "基金监督人员查看了风险疑点依据的个人数据",
        "A fund supervisor read the data behind an alert",
    ),
    "fundrisk.checked": ("开始核查基金风险疑点", "Alert being checked"),
    "fundrisk.confirmed": ("确认基金违规", "Alert confirmed"),
    "fundrisk.dismissed": ("排除基金风险疑点", "Alert dismissed"),
    "fundrisk.recovery_recorded": ("登记追回基金", "Recovery recorded"),
    "programs.distress_run": ("困难企业大数据识别", "Enterprises in difficulty identified"),
    "programs.distress_viewed": (
        "部门查看企业经营困难信号及依据",
        "A department read an enterprise's signs of difficulty",
    ),
    "programs.distress_measure_started": (
        "部门对困难企业启动纾困措施",
        "A department started a relief measure for an enterprise",
    ),
    # HR & social-security services (shuhui.hrss)
    "hrss.record_viewed": ("人社工作人员查询了我的社保记录", "An HRSS officer read my record"),
    "hrss.link_connected": ("企业人事系统接入政企直连", "Enterprise HR system connected"),
    "hrss.link_batch": ("企业通过政企直连报送批次", "Direct-link batch received"),
    "hrss.link_record": ("单位通过政企直连报送了我的信息", "My employer reported me over the link"),
    "hrss.link_refused": ("政企直连批次签名验证失败", "Direct-link batch refused: signature"),
    "hrss.injury_marked": (
        "工伤认定：认定事实清楚，15日内决定",
        "Work injury: facts clear, 15 days",
    ),
    "hrss.help_asked": ("发起视频帮办", "Video help asked"),
    "hrss.help_taken": (
        "人社工作人员接听视频帮办，查看我正在填写的表单",
        "An HRSS agent took my video help",
    ),
    "hrss.help_closed": ("视频帮办结束", "Video help ended"),
    "hrss.injury_benefits": (
        "人社工作人员核算了我的工伤伤残待遇",
        "An HRSS officer computed my injury benefits",
    ),
    "hrss.result_sent": ("办件办结，结果已告知本人", "Case result sent to the applicant"),
    "hrss.reminded": ("主动提醒：即将需要办理的事项", "Reminded of something to do soon"),
    "hrss.bundle_filed": ("提交“一件事”联办申请", "One-thing bundle filed"),
    "hrss.bundle_finished": ("“一件事”全部办结并告知结果", "Bundle finished, result sent"),
    "hrss.certificate_read": (
        "人社工作人员查看了我的参保证明",
        "An HRSS officer opened my certificate",
    ),
    "hrss.certificate_issued": (
        "开具参保证明（加盖电子印章）",
        "Certificate of insured status issued",
    ),
    "hrss.assessment_panel_drawn": (
        "劳动能力鉴定：随机抽取鉴定专家组",
        "Assessment: the expert panel drawn",
    ),
    "hrss.assessment_exam_scheduled": (
        "劳动能力鉴定：安排视频检查",
        "Assessment: video examination arranged",
    ),
    "hrss.assessment_records_read": (
        "劳动能力鉴定专家或工作人员查阅了我的申请材料和病历",
        "Assessment: my records read",
    ),
    "hrss.assessment_examined": ("劳动能力鉴定：完成视频检查", "Assessment: examined over video"),
    "hrss.assessment_recorded": (
        "劳动能力鉴定：保存视频检查录像",
        "Assessment: the examination recorded",
    ),
    "hrss.assessment_recording_viewed": (
        "劳动能力鉴定专家或工作人员观看了我的视频检查录像",
        "Assessment: my examination's recording watched",
    ),
    "hrss.assessment_opinion": (
        "劳动能力鉴定：专家签署鉴定意见",
        "Assessment: an expert's signed opinion",
    ),
    "hrss.assessment_concluded": (
        "劳动能力鉴定：作出鉴定结论（加盖电子印章）",
        "Assessment: concluded and sealed",
    ),
    # the enterprise platform (shuhui.enterprise): one enterprise one file, needs (诉求)
    "enterprise.profile_viewed": (
        "工作人员查看了本企业的一企一档",
        "An officer opened our enterprise file",
    ),
    "enterprise.need_posted": ("企业提出诉求", "Need posted"),
    "enterprise.need_taken": ("部门受理诉求并开始办理", "Need taken by the department"),
    "enterprise.need_closed": ("部门办结诉求", "Need closed by the department"),
    "enterprise.need_rated": ("企业评价诉求办理", "Need's handling rated"),
    # the digital-level assessment (数字化水平评测): answers pre-filled from the data core
    "enterprise.assessment_submitted": (
        "企业提交数字化水平评测（部分答案由平台预填）",
        "Digital-level assessment submitted (answers pre-filled from our data)",
    ),
    # approval cases (办件, shuhui.approval.cases)
    "approval.case.created": ("创建办件申请（已自动填表）", "Application drafted, form pre-filled"),
    "approval.case.saved": ("保存申请表", "Application form saved"),
    "approval.case.attached": ("上传申请材料", "Application material uploaded"),
    "approval.case.submitted": ("提交办件申请", "Application submitted"),
    "approval.case.accepted": ("部门受理办件", "Application accepted"),
    "approval.case.correction_requested": (
        "部门一次性告知补正",
        "The department asked for corrections",
    ),
    "approval.case.resubmitted": ("补正后重新提交", "Application corrected and resubmitted"),
    "approval.case.reviewed": ("部门审查办件", "Application reviewed"),
    "approval.case.countersigned": ("部门会签办件", "Application countersigned"),
    "approval.case.approved": ("部门准予许可", "Application approved"),
    "approval.case.rejected": ("部门不予许可", "Application rejected"),
    "approval.case.issued": ("办结出证", "Result issued"),
    "approval.case.withdrawn": ("撤回办件申请", "Application withdrawn"),
    "approval.case.viewed": ("部门工作人员查看了办件", "An officer looked at the application"),
    "approval.case.filed_at_counter": (
        "窗口工作人员当面核验身份后代为提交申请",
        "Filed at a service-hall window for me, my identity checked in person",
    ),
    # smart approval (智审慧办): pre-filled forms, the pre-check of materials
    "approval.material.read": (
        "部门工作人员查看了我的申请材料",
        "An officer opened my application material",
    ),
    "approval.material.prechecked": (
        "预审申请材料时核对了我的登记信息",
        "My registered data was checked against an uploaded document",
    ),
    "approval.form.prefilled": (
        "办事时读取了我的信息自动填表",
        "My data was read to pre-fill an application form",
    ),
    "approval.sample.rendered": (
        "按我的登记信息生成了演示用示例材料",
        "My registered data made out a demo sample document",
    ),
    # shuhui demo: the smart-approval case history it makes is demo data, and says so
    "demo.approval.prepared": (
        "演示：生成智审慧办演示办件",
        "Demo: smart-approval demo cases made",
    ),
}

# An action recorded by a version of the code newer than this table: named, never shown raw.
UNNAMED = ("其他操作记录", "Other recorded act")


def action_name(action: str) -> Text:
    zh, en = ACTION_NAMES.get(action, UNNAMED)
    return Text(zh, en)


# The purposes the code itself writes, in English as entries keep them (an entry's bytes never
# change): named for people here. A purpose a person typed is shown as typed.
PURPOSE_NAMES: dict[str, tuple[str, str]] = {
    "register the data core's tables in the catalog": (
        "将数据底座的数据表登记到数据目录",
        "Register the data core's tables in the catalog",
    ),
    "monthly statement": ("出具月度账单", "Monthly statement"),
    "enterprise data custody": ("企业数据托管", "Enterprise data custody"),
    "data-asset registration": ("数据资产登记", "Data-asset registration"),
    "data-asset registration review": ("数据资产登记审核", "Data-asset registration review"),
    "data-asset valuation": ("数据资产估值", "Data-asset valuation"),
    "demo: the account acts for a member of the demo city": (
        "演示：账户代表演示城市中的一名成员",
        "Demo: the account acts for a member of the demo city",
    ),
    "demo: smart-approval case history (demo data)": (
        "演示：智审慧办的演示办件历史（演示数据）",
        "Demo: smart-approval case history (demo data)",
    ),
    "counter check": ("窗口核验", "Counter check"),
    "personal signing key (platform custody)": (
        "个人签名密钥（由平台保管）",
        "Personal signing key (platform custody)",
    ),
    "personal signing key (held by the person)": (
        "个人签名密钥（本人持有）",
        "Personal signing key (held by the person)",
    ),
    "key issued": ("签发密钥", "Key issued"),
    "document sealed": ("加盖电子印章", "Document sealed"),
    "enterprise HR system connected to the direct link": (
        "企业人事系统接入政企直连",
        "Enterprise HR system connected to the direct link",
    ),
    "a batch whose signature does not verify": (
        "政企直连批次签名验证未通过",
        "A batch whose signature does not verify",
    ),
    "officer opened a certificate of insured status": (
        "人社工作人员查看参保证明",
        "Officer opened a certificate of insured status",
    ),
    "password set by someone other than the holder": (
        "密码由本人以外的人设置，平台保管的签名密钥随之作废",
        "Password set by someone other than the holder",
    ),
    "e-licence issued for an approved case": ("办件准予许可，签发电子证照", "E-licence issued"),
    "service evaluation": ("办事评价（好差评）", "Service evaluation"),
    "bad rating followed up by the department": (
        "部门跟进差评整改",
        "Bad rating followed up by the department",
    ),
    "department answered a bad rating": ("部门答复差评", "Department answered a bad rating"),
    "certificate of insured status issued at the holder's request": (
        "应本人申请开具参保证明",
        "Certificate of insured status issued at the holder's request",
    ),
}


def purpose_name(purpose: str) -> Text | None:
    """The purpose for people: named here, or as a person wrote it in Chinese; None for one in
    English that is not named here (a page shows it as code)."""
    if purpose in PURPOSE_NAMES:
        return Text(*PURPOSE_NAMES[purpose])
    if any("\u4e00" <= ch <= "\u9fff" for ch in purpose):
        return Text(purpose, purpose)
    return None

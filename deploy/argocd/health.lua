-- Argo CD health check for istioupgrade.dev/IstioUpgrade.
-- Healthy: Ready=True. Degraded: Stalled=True (failed, rolled back, or blocked: the message says why).
-- Suspended: paused by spec.paused. Progressing: everything else (Pending, Reconciling=True, not yet seen).
local hs = { status = "Progressing", message = "Waiting for the operator to pick up the upgrade" }
if obj.status == nil then
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "Waiting for the operator to observe the latest spec"
  return hs
end
local ready, reconciling, stalled
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Reconciling" then
      reconciling = condition
    elseif condition.type == "Stalled" then
      stalled = condition
    end
  end
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. stalled.message
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
if reconciling ~= nil and reconciling.status == "False" and reconciling.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = reconciling.message
  return hs
end
local phase = obj.status.phase or "Pending"
if reconciling ~= nil then
  hs.message = phase .. ": " .. reconciling.message
else
  hs.message = phase
end
return hs

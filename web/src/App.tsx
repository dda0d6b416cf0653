import { useState } from 'react';
import { NavLink, Navigate, Route, Routes } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { SignIn, currentKey, forgetKey } from './auth';
import { NotificationList } from './pages/Notifications';
import { NotificationWizard } from './pages/NotificationWizard';
import { Deliveries, DeliveryDetail } from './pages/Deliveries';
import { ProjectDetail, Projects } from './pages/Projects';
import { Webhooks } from './pages/Webhooks';
import { Pipelines } from './pages/Pipelines';
import { PipelineDetail } from './pages/PipelineDetail';
import { ActionRuns } from './pages/ActionRuns';
import { Secrets } from './pages/Secrets';
import { Activity } from './pages/Activity';

const NAV = [
  ['/notifications', 'Notifications'],
  ['/deliveries', 'Deliveries'],
  ['/projects', 'Projects'],
  ['/webhooks', 'Webhooks'],
  ['/pipelines', 'Pipelines'],
  ['/secrets', 'Secrets'],
  ['/activity', 'Activity'],
] as const;

export function App() {
  const [signedIn, setSignedIn] = useState(() => currentKey() !== null);
  const qc = useQueryClient();
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const signOut = () => {
    forgetKey();
    qc.clear();
    setSignedIn(false);
  };
  return (
    <div className="shell">
      <header>
        <span className="brand">Labelcast</span>
        <nav aria-label="Main">
          {NAV.map(([to, label]) => (
            <NavLink key={to} to={to}>{label}</NavLink>
          ))}
        </nav>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <main>
        <Routes>
          <Route path="/" element={<Navigate to="/notifications" replace />} />
          <Route path="/notifications" element={<NotificationList />} />
          <Route path="/notifications/new" element={<NotificationWizard />} />
          <Route path="/notifications/:id/edit" element={<NotificationWizard />} />
          <Route path="/deliveries" element={<Deliveries />} />
          <Route path="/deliveries/:id" element={<DeliveryDetail />} />
          <Route path="/projects" element={<Projects />} />
          <Route path="/projects/:id" element={<ProjectDetail />} />
          <Route path="/webhooks" element={<Webhooks />} />
          <Route path="/pipelines" element={<Pipelines />} />
          <Route path="/pipelines/:id" element={<PipelineDetail />} />
          <Route path="/actions/:id" element={<ActionRuns />} />
          <Route path="/secrets" element={<Secrets />} />
          <Route path="/activity" element={<Activity />} />
          <Route path="*" element={<p>No such page. <NavLink to="/notifications">Go to notifications</NavLink>.</p>} />
        </Routes>
      </main>
    </div>
  );
}
